import { describe, expect, it } from "vitest";
import { ConfigError, loadEnvironment, type RawStackConfig } from "../infra/config/load";
import { FIELD_ENCRYPTION_PURPOSES } from "../infra/config/schema";
import { readStackConfigFile } from "../infra/plan/run";
import { environments, environmentFor, UnknownStackError } from "../stacks";
import { configErrorOf, configObject, planStack } from "./harness";

/** The checked-in config of a stack, as the program receives it (short keys). */
function rawConfig(stack: string, change: Record<string, unknown> = {}, plain: string[] = []): RawStackConfig {
  const file = readStackConfigFile(stack);
  const values: Record<string, string> = {};
  const secret = new Set<string>();
  for (const [k, v] of Object.entries(file.values)) {
    const short = k.replace(/^diaspomoney-platform:/, "");
    if (short === k) continue;
    values[short] = v;
    if (file.secretKeys.includes(k) && !plain.includes(short)) secret.add(short);
  }
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete values[k];
    else values[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { values, secret };
}

const clone = <T>(v: T): T => structuredClone(v);

describe("configuration validation", () => {
  it.each(["dev", "rct", "prod"])("accepts the checked-in %s stack", (stack) => {
    const loaded = loadEnvironment(stack, environmentFor(stack), rawConfig(stack));
    expect(loaded.spec.name).toBe(stack);
  });

  it("rejects negative replicas, naming the stack, key, value and expectation", () => {
    const spec = clone(environments.dev) as any;
    spec.app.replicas = -2;
    const err = configErrorOf(() => loadEnvironment("dev", spec, rawConfig("dev")));
    expect(err.stackName).toBe("dev");
    expect(err.problems).toContainEqual(expect.objectContaining({ source: "stacks/dev.ts", key: "app.replicas", value: "-2" }));
    expect(err.message).toMatch(/stack "dev"/);
    expect(err.message).toMatch(/app\.replicas = -2: expected/);
  });

  it("rejects fewer than 3 Kafka brokers", () => {
    const spec = clone(environments.rct) as any;
    spec.kafka.brokers = 2;
    const err = configErrorOf(() => loadEnvironment("rct", spec, rawConfig("rct")));
    expect(err.problems.map((p) => p.key)).toContain("kafka.brokers");
    expect(err.problems.find((p) => p.key === "kafka.brokers")!.expected).toMatch(/at least 3 brokers/);
  });

  it("rejects an even MongoDB replica set in prod", () => {
    const spec = clone(environments.prod) as any;
    spec.mongodb.members = 4;
    const err = configErrorOf(() => loadEnvironment("prod", spec, rawConfig("prod")));
    expect(err.problems).toContainEqual(expect.objectContaining({ key: "mongodb.members", value: "4" }));
  });

  it("rejects a single MongoDB member in prod but allows it in dev", () => {
    const spec = clone(environments.prod) as any;
    spec.mongodb.members = 1;
    expect(configErrorOf(() => loadEnvironment("prod", spec, rawConfig("prod"))).problems[0].expected).toMatch(/at least 3 members/);
    expect(loadEnvironment("dev", environments.dev, rawConfig("dev")).spec.mongodb.members).toBe(1);
  });

  it("rejects malformed hosts and hosts two levels below the zone", () => {
    const spec = clone(environments.dev) as any;
    spec.hosts.app = "Dev_DiaspoMoney.fr";
    spec.hosts.grafana = "grafana.dev.diaspomoney.fr";
    const err = configErrorOf(() => loadEnvironment("dev", spec, rawConfig("dev")));
    // The schema error stops the cross checks, so fix the first to see the second.
    expect(err.problems.map((p) => p.key)).toContain("hosts.app");
    spec.hosts.app = "dev.diaspomoney.fr";
    const err2 = configErrorOf(() => loadEnvironment("dev", spec, rawConfig("dev")));
    expect(err2.problems).toEqual([expect.objectContaining({ key: "hosts.grafana", value: '"grafana.dev.diaspomoney.fr"' })]);
  });

  it("rejects a missing required key", () => {
    const err = configErrorOf(() => loadEnvironment("dev", environments.dev, rawConfig("dev", { kubernetes: undefined })));
    expect(err.problems).toContainEqual(expect.objectContaining({ source: "Pulumi.dev.yaml", key: "diaspomoney-platform:kubernetes", value: "(not set)" }));
  });

  it("rejects an unknown key (a typo) in the stack config and in the spec", () => {
    const cfg = rawConfig("dev", { alertting: { emailTo: "x@y.fr" } });
    const spec = clone(environments.dev) as any;
    spec.kafka.brokerz = 3;
    const err = configErrorOf(() => loadEnvironment("dev", spec, cfg));
    expect(err.problems).toContainEqual(expect.objectContaining({ key: "diaspomoney-platform:alertting", expected: expect.stringMatching(/unknown key/) }));
    expect(err.problems).toContainEqual(expect.objectContaining({ key: "kafka.brokerz", source: "stacks/dev.ts" }));
  });

  it("reports every problem at once", () => {
    const spec = clone(environments.prod) as any;
    spec.app.replicas = -1;
    spec.kafka.brokers = 1;
    const err = configErrorOf(() =>
      loadEnvironment("prod", spec, rawConfig("prod", { cloudflare: { zoneId: "nope", accountId: "x", ipRanges: [] }, typo: 1 })),
    );
    expect(err.problems.map((p) => p.key).sort()).toEqual(
      [
        "app.replicas",
        "kafka.brokers",
        "diaspomoney-platform:cloudflare.zoneId",
        "diaspomoney-platform:cloudflare.accountId",
        "diaspomoney-platform:cloudflare.ipRanges",
        "diaspomoney-platform:typo",
      ].sort(),
    );
  });

  it("requires secrets, and requires them encrypted", () => {
    const err = configErrorOf(() => loadEnvironment("dev", environments.dev, rawConfig("dev", { sentryDsn: undefined }, ["smtpPassword"])));
    expect(err.problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:smtpPassword", value: "(plain text)" }),
      expect.objectContaining({ key: "diaspomoney-platform:sentryDsn", value: "(not set)" }),
    ]);
    expect(err.message).not.toMatch(/offline-placeholder/);
  });

  it("requires a digest-pinned image in prod only", () => {
    const tagged = { ...configObject("prod", "app"), image: "ghcr.io/diaspomoney/diaspomoney-web:1.0.0", release: { strategy: "rolling" } };
    const err = configErrorOf(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { app: tagged })));
    expect(err.problems).toEqual([expect.objectContaining({ key: "diaspomoney-platform:app.image", expected: expect.stringMatching(/pinned by digest/) })]);
    expect(loadEnvironment("rct", environments.rct, rawConfig("rct", { app: tagged })).config.app.image).toBe(tagged.image);
  });

  it("requires the canary and blue/green images pinned by digest in prod too", () => {
    const pinned = `ghcr.io/diaspomoney/web:1.0.0@sha256:${"c".repeat(64)}`;
    const canary = { ...configObject("prod", "app"), image: pinned, release: { strategy: "canary", canaryImage: "ghcr.io/diaspomoney/web:1.1.0", canaryWeight: 5 } };
    expect(configErrorOf(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { app: canary }))).problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:app.release.canaryImage", expected: expect.stringMatching(/pinned by digest/) }),
    ]);
    const blueGreen = { ...configObject("prod", "app"), image: pinned, release: { strategy: "blueGreen", blueImage: pinned, greenImage: "ghcr.io/diaspomoney/web:2.0.0", active: "blue" } };
    expect(configErrorOf(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { app: blueGreen }))).problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:app.release.greenImage" }),
    ]);
    const ok = { ...blueGreen, release: { ...blueGreen.release, greenImage: pinned } };
    expect(loadEnvironment("prod", environments.prod, rawConfig("prod", { app: ok })).config.app.release).toMatchObject({ strategy: "blueGreen", active: "blue" });
  });

  it("bounds the canary weight to a percentage", () => {
    const app = { ...configObject("dev", "app"), image: "ghcr.io/diaspomoney/web:1.0.0", release: { strategy: "canary", canaryImage: "ghcr.io/diaspomoney/web:1.1.0", canaryWeight: 150 } };
    expect(configErrorOf(() => loadEnvironment("dev", environments.dev, rawConfig("dev", { app }))).problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:app.release.canaryWeight", value: "150" }),
    ]);
  });

  it("takes wrapped data keys for every purpose the app encrypts, and refuses raw, repeated or missing ones", () => {
    const app = JSON.parse(rawConfig("dev").values.app);
    const withKeys = (dataKeys: unknown[], kms: unknown = app.fieldEncryption.kms) => rawConfig("dev", { app: { ...app, fieldEncryption: { kms, dataKeys } } });
    const [banking, contact, identity] = app.fieldEncryption.dataKeys;
    expect(loadEnvironment("dev", environments.dev, rawConfig("dev")).config.app.fieldEncryption.dataKeys.map((k) => k.purpose)).toEqual(["banking", "contact", "identity"]);
    // The KMS defaults to Vault Transit in the cluster.
    expect(loadEnvironment("dev", environments.dev, rawConfig("dev", { app: { ...app, fieldEncryption: { dataKeys: app.fieldEncryption.dataKeys } } })).config.app.fieldEncryption.kms).toEqual({ provider: "vault-transit" });
    expect(configErrorOf(() => loadEnvironment("dev", environments.dev, withKeys([banking, contact, identity, banking]))).problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:app.fieldEncryption.dataKeys[3].id", expected: "each key id once (banking-1 appears twice)" }),
    ]);
    // A raw 256-bit key is not a wrapped key, and a missing purpose would stop every pod at start-up.
    expect(configErrorOf(() => loadEnvironment("dev", environments.dev, withKeys([{ ...banking, wrapped: "q".repeat(43) + "=" }, contact]))).problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:app.fieldEncryption.dataKeys[0].wrapped", expected: "a wrapped key: a Vault Transit ciphertext (vault:v<n>:<base64>)" }),
      expect.objectContaining({ key: "diaspomoney-platform:app.fieldEncryption.dataKeys", expected: "a data key for each purpose the app encrypts (missing: identity)" }),
    ]);
    expect(configErrorOf(() => loadEnvironment("dev", environments.dev, withKeys([banking, contact, identity], { provider: "aws-kms", keyArn: "arn:aws:kms:eu-west-3:123456789012:alias/x", region: "eu-west-3" }))).problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:app.fieldEncryption.dataKeys[0].wrapped", expected: "a wrapped key: the base64 ciphertext blob of AWS KMS" }),
      expect.objectContaining({ key: "diaspomoney-platform:app.fieldEncryption.dataKeys[1].wrapped" }),
      expect.objectContaining({ key: "diaspomoney-platform:app.fieldEncryption.dataKeys[2].wrapped" }),
    ]);
    expect(configErrorOf(() => loadEnvironment("dev", environments.dev, rawConfig("dev", { app: { image: app.image } }))).problems).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:app.fieldEncryption", value: "(not set)" }),
    ]);
  });

  it("knows the purposes the app encrypts", async () => {
    const { PURPOSES } = await import("../app/src/lib/field-encryption/fields");
    expect([...FIELD_ENCRYPTION_PURPOSES]).toEqual(PURPOSES);
  });

  it("rejects an Atlas access list open to the whole internet", () => {
    const file = rawConfig("prod");
    const atlas = JSON.parse(file.values.atlas);
    atlas.accessList = ["0.0.0.0/0"];
    const err = configErrorOf(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { atlas })));
    expect(err.problems).toEqual([expect.objectContaining({ key: "diaspomoney-platform:atlas.accessList[0]", value: '"0.0.0.0/0"' })]);
  });

  it("refuses production without the API server's addresses, and allows other tiers to leave them unset", () => {
    const kubernetes = JSON.parse(rawConfig("prod").values.kubernetes);
    expect(kubernetes.apiServerCidrs?.length).toBeGreaterThan(0);
    const { apiServerCidrs: _, ...without } = kubernetes;
    const err = configErrorOf(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { kubernetes: without })));
    expect(err.problems).toEqual([expect.objectContaining({ source: "Pulumi.prod.yaml", key: "diaspomoney-platform:kubernetes.apiServerCidrs", value: "(not set)" })]);
    expect(err.message).toMatch(/kubectl get endpoints kubernetes/);
    const dev = JSON.parse(rawConfig("dev").values.kubernetes);
    expect(dev.apiServerCidrs).toBeUndefined();
    expect(() => loadEnvironment("dev", environments.dev, rawConfig("dev"))).not.toThrow();
  });

  it("names the known stacks for an unknown one", () => {
    expect(() => environmentFor("staging")).toThrow(UnknownStackError);
    expect(() => environmentFor("staging")).toThrow(/"dev", "rct", "prod"/);
    expect(() => environmentFor("toString")).toThrow(UnknownStackError);
  });

  it("gives exactly one stack the Cloudflare zone", () => {
    expect(Object.values(environments).filter((s) => s.features.manageZone).map((s) => s.name)).toEqual(["prod"]);
  });
});

describe("a bad configuration registers nothing", () => {
  it("fails the program before any resource but the stack root", async () => {
    const monitorCheck = planStack("prod", { config: { app: { ...configObject("prod", "app"), image: "ghcr.io/diaspomoney/diaspomoney-web:latest" }, kubernetes: undefined } });
    await expect(monitorCheck).rejects.toThrow(ConfigError);
    await expect(monitorCheck).rejects.toThrow(/diaspomoney-platform:kubernetes = \(not set\)/);
  });

  it("registers nothing at all, not even the stack root, when the config is bad", async () => {
    const { getMonitor } = await import("../infra/sdk-internals");
    await expect(planStack("dev", { config: { backup: undefined } })).rejects.toThrow(/diaspomoney-platform:backup = \(not set\): expected a value/);
    expect((getMonitor() as unknown as { records: unknown[] }).records).toEqual([]);
  });
});

describe("MongoDB sharding in the spec", () => {
  const sharded = (stack: string, sharding: Record<string, unknown>, members?: number) => {
    const spec = clone(environments[stack]) as any;
    spec.mongodb.sharding = sharding;
    if (members !== undefined) spec.mongodb.members = members;
    return spec;
  };
  const keysOf = (stack: string, spec: unknown) => {
    try {
      loadEnvironment(stack, spec as never, rawConfig(stack));
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((p) => `${p.key} = ${p.value}: ${p.expected}`);
      throw err;
    }
  };

  it("is off by default (one replica set), and accepted with 3 config servers and 2 mongos in prod", () => {
    expect(loadEnvironment("prod", environments.prod, rawConfig("prod")).spec.mongodb.sharding).toBeUndefined();
    const loaded = loadEnvironment("prod", sharded("prod", { shards: 2, configServers: 3, mongos: 2 }), rawConfig("prod"));
    expect(loaded.spec.mongodb.sharding).toEqual({ shards: 2, configServers: 3, mongos: 2 });
    expect(keysOf("dev", sharded("dev", { shards: 1, configServers: 1, mongos: 1 }))).toEqual([]);
  });

  it("refuses an even config-server replica set anywhere", () => {
    expect(keysOf("dev", sharded("dev", { shards: 2, configServers: 2, mongos: 1 }))).toEqual([
      "mongodb.sharding.configServers = 2: 1 or an odd number of config servers (3, 5, 7): they form a replica set",
    ]);
  });

  it("refuses one config server or one mongos in production", () => {
    expect(keysOf("prod", sharded("prod", { shards: 2, configServers: 1, mongos: 1 }))).toEqual([
      "mongodb.sharding.configServers = 1: at least 3 config servers in production: without them the cluster's metadata has no failover",
      "mongodb.sharding.mongos = 1: at least 2 mongos routers in production: the app reaches the data only through them",
    ]);
  });

  it("still refuses even shards (members), and unknown or missing sharding keys", () => {
    expect(keysOf("prod", sharded("prod", { shards: 2, configServers: 3, mongos: 2 }, 4))[0]).toMatch(/^mongodb\.members = 4: 1 or an odd number/);
    expect(keysOf("dev", sharded("dev", { shards: 2, configServers: 3, mongos: 2, replicas: 3 })).join("\n")).toMatch(/mongodb\.sharding\.replicas/);
    expect(keysOf("dev", sharded("dev", { shards: 0, configServers: 3, mongos: 2 })).join("\n")).toMatch(/mongodb\.sharding\.shards/);
  });
});
