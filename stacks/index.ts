import type { EnvironmentSpecInput } from "../infra/config/schema";
import { dev } from "./dev";
import { prod } from "./prod";
import { rct } from "./rct";

/** Every environment of the platform, by Pulumi stack name. */
export const environments: Readonly<Record<string, EnvironmentSpecInput>> = { dev, rct, prod };

export class UnknownStackError extends Error {
  constructor(readonly stack: string) {
    super(`Unknown stack "${stack}": this project defines the stacks ${Object.keys(environments).map((s) => `"${s}"`).join(", ")} (one file each in stacks/).`);
    this.name = "UnknownStackError";
  }
}

export function environmentFor(stack: string): EnvironmentSpecInput {
  const spec = Object.prototype.hasOwnProperty.call(environments, stack) ? environments[stack] : undefined;
  if (!spec) throw new UnknownStackError(stack);
  return spec;
}
