import type { ClusterSpecInput } from "../infra/cluster/schema";
import type { EnvironmentSpecInput } from "../infra/config/schema";
import { clusterLocal } from "./cluster-local";
import { clusterNonprod } from "./cluster-nonprod";
import { clusterProd } from "./cluster-prod";
import { dev } from "./dev";
import { local } from "./local";
import { prod } from "./prod";
import { rct } from "./rct";

/** Every environment of the platform, by Pulumi stack name. */
export const environments: Readonly<Record<string, EnvironmentSpecInput>> = { dev, rct, prod, local };

/** Every cluster of the platform, by Pulumi stack name: each owns what its environments share. */
export const clusters: Readonly<Record<string, ClusterSpecInput>> = { "cluster-nonprod": clusterNonprod, "cluster-prod": clusterProd, "cluster-local": clusterLocal };

/** Every stack of the project: clusters first, the order in which a new installation deploys them. */
export const STACK_NAMES: readonly string[] = [...Object.keys(clusters), ...Object.keys(environments)];

export function isClusterStack(stack: string): boolean {
  return Object.prototype.hasOwnProperty.call(clusters, stack);
}
export class UnknownStackError extends Error {
  constructor(readonly stackName: string) {
    super(`Unknown stack "${stackName}": this project defines the stacks ${STACK_NAMES.map((s) => `"${s}"`).join(", ")} (one file each in stacks/).`);
    this.name = "UnknownStackError";
  }
}

export function environmentFor(stack: string): EnvironmentSpecInput {
  const spec = Object.prototype.hasOwnProperty.call(environments, stack) ? environments[stack] : undefined;
  if (!spec) throw new UnknownStackError(stack);
  return spec;
}

export function clusterFor(stack: string): ClusterSpecInput {
  if (!isClusterStack(stack)) throw new UnknownStackError(stack);
  return clusters[stack];
}
