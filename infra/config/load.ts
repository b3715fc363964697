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
import { credentialKindIn, maskedValue } from "./credentials";

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

/**
 * The problems of a failed schema parse. A value is shown only when it cannot be a secret: not under a
 * key stored encrypted (`secretTopKeys`, the first segment of its path), not under a key named like a
 * secret, not shaped like a credential (see `credentials.ts`).
 */
export function zodProblems(error: z.ZodError, root: unknown, source: string, prefix: string, secretTopKeys: ReadonlySet<string> = new Set()): ConfigProblem[] {
  const shown = (path: PropertyKey[]) => {
    const last = path.length ? String(path[path.length - 1]) : "";
    return maskedValue(last, valueAt(root, path), { storedSecret: path.length > 0 && secretTopKeys.has(String(path[0])) }, render);
  };
  return error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => ({
        source,
        key: prefix + joinPath([...issue.path, k]),
        value: shown([...issue.path, k]),
        expected: "no such key (unknown key: check the spelling against the README's config reference)",
      }));
    }
    const value = valueAt(root, issue.path);
    const expected =
      issue.code === "invalid_type" && value === undefined ? `a value: this key is required (${issue.expected})` : issue.message;
    return [{ source, key: prefix + joinPath(issue.path), value: shown(issue.path), expected }];
  });
}

/** Longest string any key takes: a wrapped data key is about 250 characters, a CIDR list item 43. */
export const MAX_TEXT_LENGTH = 2048;

/** Every string leaf of `root` with its path. */
function stringLeaves(root: unknown, path: PropertyKey[] = [], out: [PropertyKey[], string][] = []): [PropertyKey[], string][] {
  if (typeof root === "string") out.push([path, root]);
  else if (Array.isArray(root)) root.forEach((v, i) => stringLeaves(v, [...path, i], out));
  else if (root && typeof root === "object") for (const [k, v] of Object.entries(root)) stringLeaves(v, [...path, k], out);
  return out;
}

/**
 * What no key of either source may hold, whatever its schema says: a credential typed into plain
 * config or a stack file (it would reach plan.json, manifests and outputs in clear), control
 * characters, or text longer than {@link MAX_TEXT_LENGTH}. `skipTopKeys` are stored encrypted.
 */
export function textProblems(root: unknown, source: string, prefix: string, skipTopKeys: ReadonlySet<string> = new Set()): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [path, text] of stringLeaves(root)) {
    if (path.length > 0 && skipTopKeys.has(String(path[0]))) continue;
    const key = prefix + joinPath(path);
    const kind = credentialKindIn(text);
    if (kind) {
      problems.push({ source, key, value: `(value hidden: it looks like ${kind})`, expected: "no credential in plain configuration: store it with `pulumi config set --secret`, or reference a Kubernetes Secret" });
    } else if (text.length > MAX_TEXT_LENGTH) {
      problems.push({ source, key, value: `(${text.length} characters)`, expected: `at most ${MAX_TEXT_LENGTH} characters` });
    } else if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text)) {
      problems.push({ source, key, value: render(text), expected: "printable text: no control characters or line breaks" });
    }
  }
  return problems;
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
  problems.push(...dataProblems(spec, config, specFile, cfgFile));
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
  // An orphan kafka.controllers block is reported by dataProblems; the sizing reads the pools without it.
  const sized = spec.kafka.dedicatedControllers === 0 && spec.kafka.controllers ? { ...spec, kafka: { ...spec.kafka, controllers: undefined } } : spec;
  problems.push(...quotaProblems(stack, sized));
  if (spec.features.waf && !spec.features.manageZone) {
    problems.push({ source: specFile, key: "features.waf", value: "true", expected: "false unless features.manageZone is on (the WAF is a zone-wide ruleset, owned by the stack that manages the zone)" });
  }
  if (spec.features.atlas && !config.atlas) {
    problems.push({ source: cfgFile, key: key("atlas"), value: "(not set)", expected: "the Atlas organisation, access list and encryption key, because features.atlas is on" });
  }
  const cloudflareOn = config.integrations.cloudflare;
  if (cloudflareOn && !config.cloudflare) {
    problems.push({ source: cfgFile, key: key("cloudflare"), value: "(not set)", expected: "the Cloudflare zone, account and edge ranges, because integrations.cloudflare is on" });
  }
  if (!config.cloudflare && !config.ingress) {
    problems.push({ source: cfgFile, key: key("ingress.allowedSourceRanges"), value: "(not set)", expected: "the networks allowed to reach the load balancer, since no Cloudflare block gives its ranges" });
  }
  if (production && spec.edge.certificates !== "letsencrypt") {
    problems.push({ source: specFile, key: "edge.certificates", value: render(spec.edge.certificates), expected: '"letsencrypt" in production: browsers trust no internal CA' });
  }
  // Cloudflare's token is for the DNS-01 challenges of Let's Encrypt (and for the zone, when managed here).
  const needsCloudflareToken = cloudflareOn || spec.edge.certificates === "letsencrypt";
  const required = (Object.keys(secretKeys) as SecretKey[])
    .filter((k) => spec.features.atlas || !atlasSecretKeys.includes(k))
    .filter((k) => needsCloudflareToken || k !== "cloudflareApiToken");
  for (const k of required) {
    if (!secretsSet.has(k)) {
      problems.push({ source: cfgFile, key: key(k), value: "(not set)", expected: `a secret: ${secretKeys[k]} (pulumi config set --secret ${k})` });
    } else if (!raw.secret.has(k)) {
      problems.push({ source: cfgFile, key: key(k), value: "(plain text)", expected: `an encrypted value: pulumi config set --secret ${k}` });
    }
  }
  return problems;
}

/** Longest retention any topic may keep: ten years, beyond any legal retention period (and far from overflowing retention.ms). */
export const MAX_RETENTION_HOURS = 10 * 366 * 24;

const CRON_FIELDS: readonly { name: string; min: number; max: number; names?: readonly string[] }[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

/**
 * What is wrong with a five-field cron schedule, field by field (`*`, values, ranges `a-b`, steps
 * `/n`, lists `a,b`, month and day names), or undefined when the schedule is valid. What Kubernetes
 * CronJobs and the operators' backup schedulers accept, minus the `@daily` shorthands.
 */
export function cronProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return `5 fields, found ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const f = CRON_FIELDS[i];
    const value = (text: string): number | undefined => {
      const named = f.names?.indexOf(text.toUpperCase()) ?? -1;
      if (named >= 0) return f.names === CRON_FIELDS[3].names ? named + 1 : named;
      return /^\d{1,2}$/.test(text) ? Number(text) : undefined;
    };
    for (const item of field.split(",")) {
      const m = /^(\*|([^-/]+)(?:-([^-/]+))?)(?:\/(\d{1,2}))?$/.exec(item);
      if (!m) return `the ${f.name} field "${field}" is not a value, range, step or list`;
      if (m[4] !== undefined && Number(m[4]) < 1) return `the ${f.name} field "${field}" has a step of 0`;
      if (m[1] === "*") continue;
      const from = value(m[2]);
      const to = m[3] === undefined ? from : value(m[3]);
      if (from === undefined || to === undefined) return `the ${f.name} field "${field}" is not a value, range, step or list`;
      if (from < f.min || to > f.max || from > to) {
        return `the ${f.name} field "${field}" is outside ${f.min}-${f.max}`;
      }
    }
  }
  return undefined;
}

/**
 * The data services' rules that span keys, checked here so that the components, which also check
 * them (an invalid cluster must never be half-registered), are never the first to find a mistake.
 */
function dataProblems(spec: EnvironmentSpec, config: DeploymentConfig, specFile: string, cfgFile: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { kafka, mongodb } = spec;
  if (kafka.dedicatedControllers === 0) {
    if (kafka.controllers) {
      problems.push({ source: specFile, key: "kafka.controllers", value: "(set)", expected: "no kafka.controllers block when kafka.dedicatedControllers is 0: it sizes dedicated controllers only" });
    }
    if (kafka.brokers % 2 === 0) {
      problems.push({
        source: specFile,
        key: "kafka.brokers",
        value: render(kafka.brokers),
        expected: "an odd number of brokers when kafka.dedicatedControllers is 0 (each broker is also a KRaft controller, and a quorum needs an odd count); or set dedicatedControllers to 3 or 5",
      });
    }
  }
  kafka.topics.forEach((t, i) => {
    if (t.retentionHours > MAX_RETENTION_HOURS) {
      problems.push({ source: specFile, key: `kafka.topics[${i}].retentionHours`, value: render(t.retentionHours), expected: `at most ${MAX_RETENTION_HOURS} hours (ten years)` });
    }
  });
  const schedule = mongodb.backup.schedule;
  const cron = cronProblem(schedule);
  if (cron) {
    problems.push({ source: specFile, key: "mongodb.backup.schedule", value: render(schedule), expected: `a valid five-field cron schedule such as "0 2 * * *": ${cron}` });
  } else if (spec.features.atlas && !/^\d{1,2}\s+\d{1,2}\s+\*\s+\*\s+\*$/.test(schedule.trim())) {
    problems.push({ source: specFile, key: "mongodb.backup.schedule", value: render(schedule), expected: 'a daily schedule "<minute> <hour> * * *" when features.atlas is on: Atlas snapshots once a day at a reference time' });
  }
  const smtpPort = Number(config.alerting.smtpSmarthost.split(":").pop());
  if (!(smtpPort >= 1 && smtpPort <= 65535)) {
    problems.push({ source: cfgFile, key: `${PROJECT}:alerting.smtpSmarthost`, value: render(config.alerting.smtpSmarthost), expected: "host:port with a port from 1 to 65535" });
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

  problems.push(...textProblems(specInput, specFile, ""));

  const secretsSet = new Set<string>();
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw.values)) {
    if (k in secretKeys) {
      secretsSet.add(k);
      if (raw.secret.has(k) && v.trim() === "") {
        problems.push({ source: cfgFile, key: `${PROJECT}:${k}`, value: "(empty secret)", expected: `a non-empty secret: ${secretKeys[k as SecretKey]} (pulumi config set --secret ${k})` });
      }
    } else plain[k] = parseRawValue(v);
  }
  problems.push(...textProblems(plain, cfgFile, `${PROJECT}:`, raw.secret));
  const cfgResult = deploymentConfigSchema.safeParse(plain);
  if (!cfgResult.success) problems.push(...zodProblems(cfgResult.error, plain, cfgFile, `${PROJECT}:`, raw.secret));

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
