import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentContext } from "../context";

/** What Redis gives the rest of the data layer. */
export interface RedisDeployment {
  /** `host:port` seed addresses of the cluster, reachable from the app namespace. */
  nodes: pulumi.Input<string>;
  port: number;
  /** The cluster password (a Pulumi secret). */
  password: pulumi.Input<string>;
  outputs: Record<string, unknown>;
}

export function deployRedis(_ctx: EnvironmentContext): RedisDeployment {
  return { nodes: "redis-leader:6379", port: 6379, password: "", outputs: {} };
}
