import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentContext } from "./context";
import type { DataLayer } from "./data";
import type { Observability } from "./observability";

/** A weighted target of the app route (one for rolling, stable + canary, or the active colour). */
export interface RouteTarget {
  service: pulumi.Input<string>;
  port: number;
  weight: number;
}

export interface Application {
  routeTargets: RouteTarget[];
  outputs: Record<string, unknown>;
}

export function buildApplication(_ctx: EnvironmentContext, _deps: { data: DataLayer; observability: Observability }): Application {
  return { routeTargets: [{ service: "app", port: 3000, weight: 100 }], outputs: {} };
}
