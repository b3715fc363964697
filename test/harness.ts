/**
 * The one test harness: runs the real stack program under the recording engine (the same one
 * `npm run plan` uses) and gives tests the registered resources to assert on.
 */
import { prepare } from "../infra/program";
import { generatedSecrets, planOffline, readStackConfigFile, runPlan, type ClusterOutputsMemo, type Plan, type StackConfig } from "../infra/plan/run";
import type { RecordedResource } from "../infra/plan/recorder";
import { ConfigError, PROJECT } from "../infra/config/load";

export type { Plan, RecordedResource };

export interface PlanOptions {
  /** Replace or add `diaspomoney-platform:` keys (objects are JSON-encoded); `undefined` removes a key. */
  config?: Record<string, unknown>;
  /** Keys (short names) to mark secret, in addition to the file's `secure:` ones. */
  secretKeys?: string[];
  /** Keys (short names) to store as plain text even if the file has them `secure:`. */
  plainKeys?: string[];
}

const checkedInConfigs = new Map<string, StackConfig>();
/** `Pulumi.<stack>.yaml` as read once per worker: the files do not change during a run; callers copy, never change it. */
function checkedIn(stack: string): StackConfig {
  let config = checkedInConfigs.get(stack);
  if (!config) checkedInConfigs.set(stack, (config = readStackConfigFile(stack)));
  return config;
}

/** The config of `Pulumi.<stack>.yaml`, changed as `opts` says. */
export function stackConfig(stack: string, opts: PlanOptions = {}): StackConfig {
  const base = checkedIn(stack);
  const values = { ...base.values };
  const secretKeys = new Set(base.secretKeys);
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    const full = `${PROJECT}:${k}`;
    if (v === undefined) {
      delete values[full];
      secretKeys.delete(full);
    } else values[full] = typeof v === "string" ? v : JSON.stringify(v);
  }
  for (const k of opts.secretKeys ?? []) secretKeys.add(`${PROJECT}:${k}`);
  for (const k of opts.plainKeys ?? []) secretKeys.delete(`${PROJECT}:${k}`);
  return { values, secretKeys: [...secretKeys] };
}

/** The structured value of `key` (short name) in `Pulumi.<stack>.yaml`, to change a part of it in a test. */
export function configObject(stack: string, key: string): Record<string, any> {
  const raw = checkedIn(stack).values[`${PROJECT}:${key}`];
  if (raw === undefined) throw new Error(`Pulumi.${stack}.yaml has no ${PROJECT}:${key}`);
  return JSON.parse(raw);
}

/** The cluster stacks' planned outputs, shared by every environment planned in this worker. */
const clusterOutputs: ClusterOutputsMemo = new Map();

/**
 * Plans `stack` with its checked-in config (optionally changed) and the real program; the cluster stack
 * it references is planned once per worker for each config of it (the same program and file give the
 * same outputs).
 */
export function planStack(stack: string, opts: PlanOptions = {}): Promise<Plan> {
  return planOffline(stack, stackConfig(stack, opts), prepare, undefined, clusterOutputs);
}

/** Plans `stack` with a program other than the real one (for testing components in isolation). */
export function planProgram(stack: string, fn: () => Promise<Record<string, unknown>>, opts: PlanOptions = {}): Promise<Plan> {
  return runPlan(stack, stackConfig(stack, opts), () => fn);
}

interface Cached {
  plan: Plan;
  /** What the mock providers generated during that plan (generatedSecrets() right after it). */
  generated: string[];
}
const planCache = new Map<string, Promise<Cached>>();
function cached(stack: string): Promise<Cached> {
  let p = planCache.get(stack);
  if (!p) {
    p = planStack(stack).then((plan) => ({ plan, generated: generatedSecrets() }));
    planCache.set(stack, p);
  }
  return p;
}

/** The unchanged plan of `stack`, computed once per worker (the files of a worker share modules). */
export function cachedPlan(stack: string): Promise<Plan> {
  return cached(stack).then((c) => c.plan);
}

/** The secrets the mock providers generated during `cachedPlan(stack)`: what its artefacts must not hold. */
export function cachedGeneratedSecrets(stack: string): Promise<string[]> {
  return cached(stack).then((c) => c.generated);
}

export function ofType(plan: Plan, type: string): RecordedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

/** The Kubernetes object registered as `kind` named `name` (metadata.name), optionally in `namespace`. */
export function k8sObject(plan: Plan, kind: string, name: string, namespace?: string): RecordedResource {
  const found = plan.resources.filter((r) => {
    const i = r.inputs as { kind?: string; metadata?: { name?: string; namespace?: string } };
    return r.type.startsWith("kubernetes:") && i.kind === kind && i.metadata?.name === name && (namespace === undefined || i.metadata?.namespace === namespace);
  });
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace ?? "*"}/${name}, found ${found.length}`);
  return found[0];
}

/** Inputs of a resource as a loosely typed object, for assertions. */
export function inputs(r: RecordedResource): any {
  return r.inputs;
}

export const STACKS = ["dev", "rct", "prod"] as const;
export const CLUSTER_STACKS = ["cluster-nonprod", "cluster-prod"] as const;

/**
 * A stack's checked-in config as the loader receives it (short keys, the set of keys stored
 * encrypted), with `change` applied (objects as JSON, as the runtime hands them) and `drop` removed.
 */
export function loaderInput(stack: string, change: Record<string, unknown> = {}, drop: string[] = []): { values: Record<string, string>; secret: Set<string> } {
  const file = checkedIn(stack);
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(file.values)) values[k.slice(PROJECT.length + 1)] = v;
  for (const [k, v] of Object.entries(change)) values[k] = typeof v === "string" ? v : JSON.stringify(v);
  for (const k of drop) delete values[k];
  return { values, secret: new Set(file.secretKeys.map((k) => k.slice(PROJECT.length + 1)).filter((k) => !drop.includes(k))) };
}

/** The ConfigError `fn` throws; anything else it throws is rethrown, and not throwing fails the test. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}
