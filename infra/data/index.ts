import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentContext } from "../context";

/** What the data layer gives the rest of the environment. */
export interface DataLayer {
  /** Name of the Secret, in the app namespace, holding what the app needs to connect. */
  connectionSecretName: pulumi.Input<string>;
  /** Ports the app may reach in the infra namespace. */
  ports: { mongodb: number; redis: number; kafka: number };
  /** Stack outputs of the area (no secret). */
  outputs: Record<string, unknown>;
}

export function buildDataLayer(_ctx: EnvironmentContext): DataLayer {
  return { connectionSecretName: "data-connections", ports: { mongodb: 27017, redis: 6379, kafka: 9093 }, outputs: {} };
}
