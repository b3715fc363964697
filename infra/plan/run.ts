import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import * as YAML from "yaml";
import { ConfigError, PROJECT, type ConfigProblem } from "../config/load";
import { installRecorder, offlineStackOutputs, RecordingMonitor, SECRET, type RecordedResource } from "./recorder";
import { getMonitor, waitForRPCs } from "../sdk-internals";

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

/** Start of every offline stand-in for a `secure:` config value. */
export const PLACEHOLDER_PREFIX = "offline-placeholder-for-";

/** Offline stand-in for a `secure:` value; it is masked as {@link SECRET} wherever it flows. */
export function placeholderFor(key: string): string {
  return `${PLACEHOLDER_PREFIX}${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/**
 * Reads `Pulumi.<stack>.yaml` as the CLI would hand it to the program, except that `secure:` values,
 * which only the real secrets provider can decrypt, become placeholders that stay secret.
 */
export function readStackConfigFile(stack: string, root = ROOT): StackConfig {
  const source = `Pulumi.${stack}.yaml`;
  const file = path.join(root, source);
  const fileProblem = (value: string, expected: string) => new ConfigError(stack, [{ source, key: "(file)", value, expected }]);
  if (!fs.existsSync(file)) {
    throw fileProblem("(missing)", `a ${source} next to Pulumi.yaml: create it with \`pulumi stack init ${stack}\` and the keys listed in README.md`);
  }
  let doc: { config?: Record<string, unknown> };
  try {
    doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as typeof doc;
  } catch (err) {
    throw fileProblem("(unreadable)", `valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || Array.isArray(doc) || (doc.config !== undefined && (doc.config === null || typeof doc.config !== "object" || Array.isArray(doc.config)))) {
    throw fileProblem("(malformed)", "a mapping with a `config:` mapping of keys, as `pulumi config set` writes it");
  }
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const problems: ConfigProblem[] = [];
  const spelledAs = new Map<string, string>();
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
    // `app` and `diaspomoney-platform:app` are one key: given twice, which one wins is not the user's choice.
    const earlier = spelledAs.get(fullKey);
    if (earlier !== undefined) {
      problems.push({ source, key: fullKey, value: "(given twice)", expected: `one spelling of the key: "${earlier}" and "${key}" both set it` });
    }
    spelledAs.set(fullKey, key);
    let secret = false;
    const resolve = (v: unknown, at: string): unknown => {
      if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
        secret = true;
        const cipher = (v as { secure: unknown }).secure;
        if (typeof cipher !== "string" || cipher.trim() === "") {
          problems.push({ source, key: at, value: "(empty secret)", expected: "a value set with `pulumi config set --secret`: an empty `secure:` decrypts to nothing" });
        }
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
  if (problems.length > 0) throw new ConfigError(stack, problems);
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
  // A failure inside the program is kept and rethrown once the stack is done: left to the stack
  // resource, it would also reject the stack's outputs, unobserved.
  const guarded = async () => {
    try {
      return await program();
    } catch (err) {
      failure = err;
      return {};
    }
  };
  try {
    await pulumi.runtime.runInPulumiStack(guarded);
  } catch (err) {
    failure ??= err;
  }
  await waitForRPCs();
  if (failure) throw failure;
  return { project: PROJECT, stack, resources: monitor.records, outputs: monitor.stackOutputs };
}

/** The stack an environment's config names as its cluster (`diaspomoney-platform:cluster.stack`), if any. */
export function referencedClusterStack(config: StackConfig): string | undefined {
  const raw = config.values[`${PROJECT}:cluster`];
  if (raw === undefined) return undefined;
  try {
    const stack = (JSON.parse(raw) as { stack?: unknown }).stack;
    return typeof stack === "string" ? stack : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The planned outputs of cluster stacks, by stack, config folder and config: a process that plans many
 * environments with the same program (the test suite) passes one to `planOffline` so that each cluster
 * config is planned once. `npm run plan` plans one stack and passes none.
 */
export type ClusterOutputsMemo = Map<string, Record<string, unknown>>;

/**
 * Plans `stack` as `npm run plan` does: an environment's cluster stack first (its config from the same
 * folder), whose planned outputs stand in for the StackReference the environment reads. A reference
 * to a stack that has no config file stays unresolved, and the environment fails as it would on a
 * backend without that stack.
 */
export async function planOffline(
  stack: string,
  config: StackConfig,
  prepare: () => () => Promise<Record<string, unknown>>,
  configDir = ROOT,
  clusterOutputs?: ClusterOutputsMemo,
): Promise<Plan> {
  offlineStackOutputs.clear();
  const reference = referencedClusterStack(config);
  if (reference !== undefined) {
    const clusterStack = reference.split("/").pop()!;
    if (clusterStack !== stack && fs.existsSync(path.join(configDir, `Pulumi.${clusterStack}.yaml`))) {
      const clusterConfig = readStackConfigFile(clusterStack, configDir);
      const key = JSON.stringify([clusterStack, configDir, clusterConfig]);
      let outputs = clusterOutputs?.get(key);
      if (!outputs) {
        outputs = (await runPlan(clusterStack, clusterConfig, prepare)).outputs;
        clusterOutputs?.set(key, outputs);
      }
      offlineStackOutputs.set(reference, outputs);
    }
  }
  return runPlan(stack, config, prepare);
}

function secretStrings(value: unknown, inSecret: boolean, out: Set<string>): void {
  if (typeof value === "string") {
    if (inSecret) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) secretStrings(v, inSecret, out);
  } else if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const secret = inSecret || obj[rpc.specialSigKey] === rpc.specialSecretSig;
    for (const [k, v] of Object.entries(obj)) if (k !== rpc.specialSigKey) secretStrings(v, secret, out);
  }
}

/**
 * The secret values the mock providers generated during the last plan (RandomPassword results, API
 * tokens...): secret outputs that are not inputs, read from the recorder's state. No artefact may
 * contain one. Short values are left out: they would match ordinary text and no real secret is that short.
 */
export function generatedSecrets(): string[] {
  const monitor = getMonitor();
  if (!(monitor instanceof RecordingMonitor)) throw new Error("no plan has run in this process");
  const inputKeys = new Map(monitor.records.map((r) => [r.urn, new Set(Object.keys(r.inputs))]));
  const out = new Set<string>();
  for (const { urn, state } of monitor.resources.values()) {
    for (const [key, value] of Object.entries(state ?? {})) {
      if (!inputKeys.get(urn)?.has(key)) secretStrings(value, false, out);
    }
  }
  return [...out].filter((s) => s.length >= 8).sort();
}

/** Every string in `plan` that equals a known secret placeholder: must be empty. */
export function leakedPlaceholders(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...new Set(text.match(new RegExp(`${PLACEHOLDER_PREFIX}[A-Za-z0-9-]+`, "g")) ?? [])];
}
