import { z } from "zod";
import {
  atlasSecretKeys,
  deploymentConfigSchema,
  environmentSpecSchema,
  secretKeys,
  type DeploymentConfig,
  type EnvironmentSpec,
  type EnvironmentSpecInput,
  type SecretKey,
} from "./schema";
import { quotaProblems } from "../sizing";

export const PROJECT = "diaspomoney-platform";

/** One thing wrong with the configuration, phrased for the person who has to fix it. */
export interface ConfigProblem {
  /** Where the value lives: `stacks/prod.ts` or `Pulumi.prod.yaml`. */
  source: string;
  /** Dotted key, prefixed with the project namespace for stack config. */
  key: string;
  /** The offending value, rendered (never the value of a secret key). */
  value: string;
  expected: string;
}

export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `Invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n` +
        problems.map((p) => `  - ${p.source} ${p.key} = ${p.value}: expected ${p.expected}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** What the rest of the program receives: validated, typed, secrets still unresolved. */
export interface LoadedEnvironment {
  stack: string;
  spec: EnvironmentSpec;
  config: DeploymentConfig;
  /** Names of the secret keys that are set; values are read with `requireSecret` by the caller. */
  secretKeysPresent: SecretKey[];
}

export interface RawStackConfig {
  /** Values of `diaspomoney-platform:*` keys, as the Pulumi runtime hands them over (strings, JSON for objects). */
  values: Record<string, string>;
  /** Keys (without the project prefix) whose value is stored encrypted. */
  secret: ReadonlySet<string>;
}

export function render(value: unknown): string {
  if (value === undefined) return "(not set)";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function joinPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

export function zodProblems(error: z.ZodError, root: unknown, source: string, prefix: string): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => ({
        source,
        key: prefix + joinPath([...issue.path, k]),
        value: render(valueAt(root, [...issue.path, k])),
        expected: "no such key (unknown key: check the spelling against the README's config reference)",
      }));
    }
    const value = valueAt(root, issue.path);
    const expected =
      issue.code === "invalid_type" && value === undefined ? `a value: this key is required (${issue.expected})` : issue.message;
    return [{ source, key: prefix + joinPath(issue.path), value: render(value), expected }];
  });
}

export function parseRawValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const digestPinned = /@sha256:[a-f0-9]{64}$/;

/** Rules that span several keys or both sources; run only on values that passed the schemas. */
function crossChecks(stack: string, spec: EnvironmentSpec, config: DeploymentConfig, secretsSet: Set<string>, raw: RawStackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const specFile = `stacks/${stack}.ts`;
  const cfgFile = `Pulumi.${stack}.yaml`;
  const key = (k: string) => `${PROJECT}:${k}`;
  const production = spec.tier === "production";

  if (spec.name !== stack) {
    problems.push({ source: specFile, key: "name", value: render(spec.name), expected: `the stack name "${stack}"` });
  }
  const { members } = spec.mongodb;
  if (members !== 1 && members % 2 === 0) {
    problems.push({ source: specFile, key: "mongodb.members", value: render(members), expected: "1 or an odd number of replica set members (3, 5, 7): an even replica set cannot break election ties" });
  } else if (production && members < 3) {
    problems.push({ source: specFile, key: "mongodb.members", value: render(members), expected: "a replica set of at least 3 members in production" });
  }
  problems.push(...shardingProblems(spec, specFile, production));
  if (spec.app.maxReplicas < spec.app.replicas) {
    problems.push({ source: specFile, key: "app.maxReplicas", value: render(spec.app.maxReplicas), expected: `at least app.replicas (${spec.app.replicas})` });
  }
  const seen = new Set<string>();
  spec.kafka.topics.forEach((t, i) => {
    if (seen.has(t.name)) problems.push({ source: specFile, key: `kafka.topics[${i}].name`, value: render(t.name), expected: "a topic name used once" });
    seen.add(t.name);
    if (t.replicas > spec.kafka.brokers) {
      problems.push({ source: specFile, key: `kafka.topics[${i}].replicas`, value: render(t.replicas), expected: `at most kafka.brokers (${spec.kafka.brokers})` });
    }
    if (t.replicas < 3) {
      problems.push({ source: specFile, key: `kafka.topics[${i}].replicas`, value: render(t.replicas), expected: "at least 3 replicas (min.insync.replicas is 2)" });
    }
  });
  for (const [name, host] of Object.entries(spec.hosts)) {
    if (!host.endsWith(`.${spec.domain}`) || host.slice(0, -spec.domain.length - 1).includes(".")) {
      problems.push({
        source: specFile,
        key: `hosts.${name}`,
        value: render(host),
        expected: `a name one level below ${spec.domain} (Cloudflare's universal certificate covers only that)`,
      });
    }
  }
  if (production) {
    if (!spec.features.protectStatefulResources) {
      problems.push({ source: specFile, key: "features.protectStatefulResources", value: "false", expected: "true in production" });
    }
    const images: [string, string][] = [["app.image", config.app.image]];
    const r = config.app.release;
    if (r.strategy === "canary") images.push(["app.release.canaryImage", r.canaryImage]);
    if (r.strategy === "blueGreen") images.push(["app.release.blueImage", r.blueImage], ["app.release.greenImage", r.greenImage]);
    for (const [k, image] of images) {
      if (!digestPinned.test(image)) {
        problems.push({ source: cfgFile, key: key(k), value: render(image), expected: "an image pinned by digest (…@sha256:<64 hex>) in production" });
      }
    }
  }
  // Without them the operators' API-server egress is every address on 443 and 6443.
  if (production && !config.kubernetes.apiServerCidrs) {
    problems.push({
      source: cfgFile,
      key: key("kubernetes.apiServerCidrs"),
      value: "(not set)",
      expected: "the API server's endpoint CIDRs in production (kubectl get endpoints kubernetes -n default): operators may call only them",
    });
  }
  problems.push(...quotaProblems(stack, spec));
  if (spec.features.waf && !spec.features.manageZone) {
    problems.push({ source: specFile, key: "features.waf", value: "true", expected: "false unless features.manageZone is on (the WAF is a zone-wide ruleset, owned by the stack that manages the zone)" });
  }
  if (spec.features.atlas && !config.atlas) {
    problems.push({ source: cfgFile, key: key("atlas"), value: "(not set)", expected: "the Atlas organisation, access list and encryption key, because features.atlas is on" });
  }
  const required = (Object.keys(secretKeys) as SecretKey[]).filter((k) => spec.features.atlas || !atlasSecretKeys.includes(k));
  for (const k of required) {
    if (!secretsSet.has(k)) {
      problems.push({ source: cfgFile, key: key(k), value: "(not set)", expected: `a secret: ${secretKeys[k]} (pulumi config set --secret ${k})` });
    } else if (!raw.secret.has(k)) {
      problems.push({ source: cfgFile, key: key(k), value: "(plain text)", expected: `an encrypted value: pulumi config set --secret ${k}` });
    }
  }
  return problems;
}

/**
 * A sharded MongoDB: the config servers are a replica set too (1 or odd), and production needs them
 * to survive a member's loss (3 or more) and more than one router (a lone mongos is a single point of
 * failure for every query).
 */
function shardingProblems(spec: EnvironmentSpec, specFile: string, production: boolean): ConfigProblem[] {
  const sharding = spec.mongodb.sharding;
  if (!sharding) return [];
  const problems: ConfigProblem[] = [];
  const { configServers, mongos } = sharding;
  if (configServers > 1 && configServers % 2 === 0) {
    problems.push({ source: specFile, key: "mongodb.sharding.configServers", value: render(configServers), expected: "1 or an odd number of config servers (3, 5, 7): they form a replica set" });
  }
  if (production && configServers < 3) {
    problems.push({ source: specFile, key: "mongodb.sharding.configServers", value: render(configServers), expected: "at least 3 config servers in production: without them the cluster's metadata has no failover" });
  }
  if (production && mongos < 2) {
    problems.push({ source: specFile, key: "mongodb.sharding.mongos", value: render(mongos), expected: "at least 2 mongos routers in production: the app reaches the data only through them" });
  }
  return problems;
}

/**
 * Validates the environment spec and the stack config together. Throws a {@link ConfigError} listing
 * every problem at once; returns only when the whole configuration is usable.
 */
export function loadEnvironment(stack: string, specInput: EnvironmentSpecInput, raw: RawStackConfig): LoadedEnvironment {
  const problems: ConfigProblem[] = [];
  const specFile = `stacks/${stack}.ts`;
  const cfgFile = `Pulumi.${stack}.yaml`;

  const specResult = environmentSpecSchema.safeParse(specInput);
  if (!specResult.success) problems.push(...zodProblems(specResult.error, specInput, specFile, ""));

  const secretsSet = new Set<string>();
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw.values)) {
    if (k in secretKeys) secretsSet.add(k);
    else plain[k] = parseRawValue(v);
  }
  const cfgResult = deploymentConfigSchema.safeParse(plain);
  if (!cfgResult.success) problems.push(...zodProblems(cfgResult.error, plain, cfgFile, `${PROJECT}:`));

  if (specResult.success && cfgResult.success) {
    // An integration turned off in this installation's config turns off what the spec builds on it.
    const { integrations } = cfgResult.data;
    const features = specResult.data.features;
    if (!integrations.atlas) features.atlas = false;
    if (!integrations.cloudflare) Object.assign(features, { manageZone: false, waf: false });
    problems.push(...crossChecks(stack, specResult.data, cfgResult.data, secretsSet, raw));
  }
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return {
    stack,
    spec: specResult.data!,
    config: cfgResult.data!,
    secretKeysPresent: [...secretsSet].filter((k): k is SecretKey => k in secretKeys),
  };
}
