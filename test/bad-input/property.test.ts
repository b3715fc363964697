// The bad-input contract, for any mutation of a valid stack: the configuration check refuses it with a
// ConfigError that names only this stack's files and shows no secret, or accepts it and the program
// then plans it without crashing and without a secret in any artefact.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { isSecretLookingKey } from "../../infra/config/credentials";
import { ConfigError, loadEnvironment } from "../../infra/config/load";
import { findSecretLeaks, reporters } from "../../infra/plan/artefacts";
import { generatedSecrets } from "../../infra/plan/run";
import { environments } from "../../stacks";
import { loaderInput, planStack } from "../harness";

/** Marks every value this test stores as a secret or shapes as a credential: no message may contain it. */
const MARK = "Zq7mark";

const numberPaths = [
  "app.replicas",
  "app.maxReplicas",
  "kafka.brokers",
  "kafka.dedicatedControllers",
  "kafka.topics.0.replicas",
  "kafka.topics.0.retentionHours",
  "mongodb.members",
  "mongodb.backup.keep",
  "redis.leaders",
  "redis.followersPerLeader",
  "edge.traefikReplicas",
  "monitoring.prometheusReplicas",
  "namespaces.infra.pods",
];
const stringPaths = [
  "domain",
  "hosts.app",
  "app.resources.limits.cpu",
  "app.resources.requests.memory",
  "mongodb.storage",
  "mongodb.backup.schedule",
  "monitoring.prometheusRetention",
  "namespaces.app.cpu.limits",
  "kafka.topics.0.name",
];

const numbers = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(0, 2 ** 31, 2 ** 53, 1e300, 1.5, -0.5));
const texts = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("0 25 * * *", "*/0 * * * *", "100Gi", "500m", "99999", "-1", "15d", "dev.diaspomoney.fr\n", "x".repeat(5000)),
  fc.constantFrom(`https://u:${MARK}pw@host.example`, `AKIA${MARK.toUpperCase()}ABCDEFGHI`.slice(0, 20)),
);

type Mutation =
  | { kind: "spec"; path: string; value: unknown }
  | { kind: "unknownKey"; key: string; value: string; secret: boolean }
  | { kind: "secretAsPlain"; key: string }
  | { kind: "dropKey"; key: string }
  | { kind: "setKey"; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("spec" as const), path: fc.constantFrom(...numberPaths), value: numbers }),
  fc.record({ kind: fc.constant("spec" as const), path: fc.constantFrom(...stringPaths), value: texts }),
  fc.record({
    kind: fc.constant("unknownKey" as const),
    key: fc.constantFrom("cloudflareApiTokn", "smtpPasword", "colour", "app2", "backups"),
    value: fc.string({ maxLength: 8 }).map((s) => `${MARK}${s}`),
    secret: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("secretAsPlain" as const), key: fc.constantFrom("smtpPassword", "slackWebhookUrl", "cloudflareApiToken", "backupSecretAccessKey") }),
  fc.record({ kind: fc.constant("dropKey" as const), key: fc.constantFrom("kubernetes", "cluster", "app", "alerting", "backup", "smtpPassword", "integrations") }),
  fc.record({
    kind: fc.constant("setKey" as const),
    key: fc.constantFrom("kubernetes", "cluster", "app", "alerting", "backup", "integrations", "ingress"),
    value: fc.oneof(fc.constantFrom(null, 3, "text", [], {}), fc.dictionary(fc.constantFrom("context", "image", "stack", "emailTo", "bucket"), texts, { maxKeys: 2 })),
  }),
);

function setPath(root: any, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = root;
  for (const p of parts.slice(0, -1)) cur = cur[p];
  cur[parts[parts.length - 1]] = value;
}

const inputs: Record<string, ReturnType<typeof loaderInput>> = {};

/** The spec and loader input of `stack` with `m` applied; `secrets` are the values stored encrypted. */
function mutated(stack: string, m: Mutation) {
  const spec = structuredClone(environments[stack]) as any;
  const base = (inputs[stack] ??= loaderInput(stack));
  const raw = { values: { ...base.values }, secret: new Set(base.secret) };
  // Real secret values, as the CLI would decrypt them: each carries the mark.
  for (const k of raw.secret) raw.values[k] = `${MARK}-${k}-value`;
  if (m.kind === "spec") setPath(spec, m.path, m.value);
  else if (m.kind === "unknownKey") {
    // A plain value under an ordinary name may be shown (it helps to spot the typo): only secret ones carry the mark.
    raw.values[m.key] = m.secret || isSecretLookingKey(m.key) ? m.value : m.value.replace(MARK, "plain");
    if (m.secret) raw.secret.add(m.key);
  } else if (m.kind === "secretAsPlain") raw.secret.delete(m.key);
  else if (m.kind === "dropKey") {
    delete raw.values[m.key];
    raw.secret.delete(m.key);
  } else raw.values[m.key] = JSON.stringify(m.value);
  return { spec, raw };
}

/** What a refusal must be: this stack's files only, every problem complete, no secret shown. */
function expectGoodRefusal(stack: string, err: unknown): void {
  expect(err).toBeInstanceOf(ConfigError);
  const e = err as ConfigError;
  expect(e.stackName).toBe(stack);
  expect(e.problems.length).toBeGreaterThan(0);
  for (const p of e.problems) {
    expect([`stacks/${stack}.ts`, `Pulumi.${stack}.yaml`]).toContain(p.source);
    expect(p.key.length).toBeGreaterThan(0);
    expect(p.expected.length).toBeGreaterThan(0);
    expect(p.value.length).toBeLessThanOrEqual(200);
  }
  expect(e.message).not.toContain(MARK);
  expect(e.message).not.toContain(MARK.toUpperCase());
}

describe("any mutation of a valid stack", () => {
  it("is refused with a clean ConfigError or accepted by the configuration check: never a crash, never a secret shown", () => {
    fc.assert(
      fc.property(fc.constantFrom("dev", "rct", "prod"), mutation, (stack, m) => {
        const { spec, raw } = mutated(stack, m);
        try {
          loadEnvironment(stack, spec, raw);
        } catch (err) {
          expectGoodRefusal(stack, err);
        }
      }),
      { numRuns: Number(process.env.DM_PROPERTY_RUNS ?? 400), seed: process.env.DM_PROPERTY_RUNS ? undefined : 20261207 },
    );
  });

  describe("when accepted, plans", () => {
    const original = { ...environments };
    afterEach(() => Object.assign(environments as Record<string, unknown>, original));

    it("without crashing and without a secret in any artefact", async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom("dev", "rct", "prod"), fc.record({ kind: fc.constant("spec" as const), path: fc.constantFrom(...numberPaths), value: fc.integer({ min: 1, max: 9 }) }), async (stack, m) => {
          const { spec, raw } = mutated(stack, m);
          let accepted = true;
          try {
            loadEnvironment(stack, spec, raw);
          } catch (err) {
            expectGoodRefusal(stack, err);
            accepted = false;
          }
          (environments as Record<string, unknown>)[stack] = spec;
          try {
            const plan = await planStack(stack);
            expect(accepted).toBe(true);
            expect(plan.resources.length).toBeGreaterThan(100);
            expect(findSecretLeaks(reporters.flatMap((r) => r.render(plan)), generatedSecrets())).toEqual([]);
          } catch (err) {
            expect(accepted).toBe(false);
            expectGoodRefusal(stack, err);
          } finally {
            Object.assign(environments as Record<string, unknown>, original);
          }
        }),
        { numRuns: 6, seed: 20261207 },
      );
    }, 120_000);
  });
});
