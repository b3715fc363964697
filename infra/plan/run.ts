import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { PROJECT } from "../config/load";
import { installRecorder, SECRET, type RecordedResource } from "./recorder";
import { waitForRPCs } from "../sdk-internals";

/** The shape of `plan.json`, read by the diff, the audit and CI. */
export interface Plan {
  project: string;
  stack: string;
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
}

/** A stack's config as `pulumi.runtime.setAllConfig` takes it. */
export interface StackConfig {
  /** Full keys (`diaspomoney-platform:app`) to strings (JSON for non-strings). */
  values: Record<string, string>;
  /** Full keys whose value is a secret. */
  secretKeys: string[];
}

export const ROOT = path.resolve(__dirname, "..", "..");

/** Offline stand-in for a `secure:` value; it is masked as {@link SECRET} wherever it flows. */
export function placeholderFor(key: string): string {
  return `offline-placeholder-for-${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/**
 * Reads `Pulumi.<stack>.yaml` as the CLI would hand it to the program, except that `secure:` values,
 * which only the real secrets provider can decrypt, become placeholders that stay secret.
 */
export function readStackConfigFile(stack: string, root = ROOT): StackConfig {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Error(`No Pulumi.${stack}.yaml next to Pulumi.yaml: create it with \`pulumi stack init ${stack}\` and the keys listed in README.md.`);
  }
  const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
    let secret = false;
    const resolve = (v: unknown, at: string): unknown => {
      if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
        secret = true;
        return placeholderFor(at);
      }
      if (Array.isArray(v)) return v.map((x, i) => resolve(x, `${at}[${i}]`));
      if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, `${at}.${k}`)]));
      return v;
    };
    const resolved = resolve(value, fullKey);
    values[fullKey] = typeof resolved === "string" ? resolved : JSON.stringify(resolved);
    if (secret) secretKeys.push(fullKey);
  }
  return { values, secretKeys };
}

/**
 * Runs a stack program for `stack` in-process with the recording engine and returns what it
 * registered. `prepare` validates and returns the program (the real one is `infra/program.ts`); a
 * configuration error thrown by it leaves the recorder empty.
 */
export async function runPlan(
  stack: string,
  config: StackConfig,
  prepare: () => () => Promise<Record<string, unknown>>,
): Promise<Plan> {
  const monitor = installRecorder(PROJECT, stack);
  pulumi.runtime.setAllConfig(config.values, config.secretKeys);
  const program = prepare();
  let failure: unknown;
  try {
    await pulumi.runtime.runInPulumiStack(program);
  } catch (err) {
    failure = err;
  }
  await waitForRPCs();
  if (failure) throw failure;
  return { project: PROJECT, stack, resources: monitor.records, outputs: monitor.stackOutputs };
}

/** Every string in `plan` that equals a known secret placeholder: must be empty. */
export function leakedPlaceholders(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...new Set(text.match(/offline-placeholder-for-[A-Za-z0-9-]+/g) ?? [])];
}

export { SECRET };
