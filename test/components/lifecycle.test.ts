import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import {
  awaitAnnotations,
  checksum,
  checksumAnnotations,
  checksumOfEntries,
  HELM_RELEASE_TIMEOUT_SECONDS,
  helmChartAwait,
  helmReleaseAwait,
  READINESS,
  type AwaitedKind,
} from "../../components/lifecycle";
import { inputs, planProgram } from "../harness";
import * as k8s from "@pulumi/kubernetes";

// The upstream CRDs beside the checkout (`../shared`), or where `SHARED_DIR` says, as in `.ci/run`.
const CRDS = path.join(process.env.SHARED_DIR ?? path.resolve(__dirname, "..", "..", "..", "shared"), "upstream", "crds");

/** The served version's status schema of a CRD file. */
function statusSchema(file: string): any {
  const crd = YAML.parseAllDocuments(fs.readFileSync(path.join(CRDS, file), "utf8"))
    .map((d) => d.toJS())
    .find((d) => d?.kind === "CustomResourceDefinition");
  return crd.spec.versions.find((v: any) => v.served && v.storage).schema.openAPIV3Schema.properties.status;
}

describe("readiness of each awaited kind", () => {
  const KINDS = Object.keys(READINESS) as AwaitedKind[];

  it("waits, with a timeout that fits a cold cluster, when readiness is awaited", () => {
    expect(awaitAnnotations("Kafka")).toEqual({ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "1800" });
    expect(awaitAnnotations("PerconaServerMongoDB", true)).toEqual({ "pulumi.com/waitFor": "jsonpath={.status.state}=ready", "pulumi.com/timeoutSeconds": "1800" });
    expect(awaitAnnotations("RedisCluster")).toEqual({ "pulumi.com/waitFor": "jsonpath={.status.state}=Ready", "pulumi.com/timeoutSeconds": "1800" });
    // Built-in awaits: only the timeout.
    expect(awaitAnnotations("Deployment")).toEqual({ "pulumi.com/timeoutSeconds": "900" });
    for (const kind of KINDS) expect(READINESS[kind].timeoutSeconds, kind).toBeGreaterThanOrEqual(600);
  });

  it("never waits, and says so explicitly, when readiness is not awaited (a control plane without nodes)", () => {
    for (const kind of KINDS) expect(awaitAnnotations(kind, false), kind).toEqual({ "pulumi.com/skipAwait": "true" });
  });

  it("waits for conditions and states the operators' CRDs actually report", () => {
    // Strimzi: a `conditions` list (type Ready) on Kafka, KafkaTopic and KafkaUser.
    for (const file of ["strimzi/040-Crd-kafka.yaml", "strimzi/043-Crd-kafkatopic.yaml", "strimzi/044-Crd-kafkauser.yaml"]) {
      expect(Object.keys(statusSchema(file).properties.conditions.items.properties), file).toEqual(expect.arrayContaining(["type", "status"]));
    }
    // Percona and OT: a free-string `status.state` (values from the operators' API packages:
    // psmdb AppStateReady "ready"; redis-operator RedisClusterReady "Ready").
    expect(statusSchema("percona-server-mongodb-operator/psmdb.percona.com_perconaservermongodbs.yaml").properties.state).toEqual({ type: "string" });
    const redis = statusSchema("redis-operator/redis.redis.opstreelabs.in_redisclusters.yaml").properties;
    expect(redis.state).toEqual({ type: "string" });
    expect(redis).toHaveProperty("readyLeaderReplicas");
    for (const kind of ["PerconaServerMongoDB", "RedisCluster"] as const) expect(READINESS[kind].waitFor).toMatch(/^jsonpath=\{\.status\.state\}=/);
  });
});

describe("Helm await options", () => {
  it("give a waiting release 15 minutes and atomic rollback, and a non-waiting one neither", () => {
    expect(helmReleaseAwait()).toEqual({ atomic: true, skipAwait: false, timeout: 900 });
    expect(helmReleaseAwait(false)).toEqual({ atomic: false, skipAwait: true, timeout: 900 });
    expect(HELM_RELEASE_TIMEOUT_SECONDS).toBeGreaterThan(300);
  });

  it("switch only waiting on a v4 Chart, which awaits each object on its own", () => {
    expect(helmChartAwait()).toEqual({ skipAwait: false });
    expect(helmChartAwait(false)).toEqual({ skipAwait: true });
  });
});

describe("checksums", () => {
  it("are the same for the same entries in any order, and differ when any value changes", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string(), { minKeys: 1 }), fc.string(), (entries, extra) => {
        const reversed = Object.fromEntries(Object.entries(entries).reverse());
        expect(checksumOfEntries(reversed)).toBe(checksumOfEntries(entries));
        const key = Object.keys(entries)[0];
        if (extra !== entries[key]) expect(checksumOfEntries({ ...entries, [key]: extra })).not.toBe(checksumOfEntries(entries));
        expect(checksumOfEntries(entries)).toMatch(/^[0-9a-f]{64}$/);
      }),
    );
  });

  it("of a Secret's data, are plain values on the pod template: the hash is shown, the secret is not", async () => {
    const data = { PASSWORD: pulumi.secret("generated-32-character-password!") };
    const plan = await planProgram("dev", async () => {
      new k8s.core.v1.ConfigMap("holder", { metadata: { name: "holder", annotations: checksumAnnotations({ creds: checksum(data) }) } });
      return {};
    });
    const annotations = inputs(plan.resources.find((r) => r.name === "holder")!).metadata.annotations;
    expect(annotations).toEqual({ "checksum/creds": checksumOfEntries({ PASSWORD: "generated-32-character-password!" }) });
    expect(JSON.stringify(plan.resources)).not.toContain("generated-32-character-password!");
  });

  it("stay secret if computed without unsecret (the failing case the helper avoids)", async () => {
    const plan = await planProgram("dev", async () => {
      const secretSum = pulumi.output({ PASSWORD: pulumi.secret("p") }).apply((e) => checksumOfEntries(e));
      new k8s.core.v1.ConfigMap("holder", { metadata: { name: "holder", annotations: { "checksum/creds": secretSum } } });
      return {};
    });
    // The recorder shows a secret as [secret]: a preview could not tell why the pods roll.
    expect(inputs(plan.resources.find((r) => r.name === "holder")!).metadata.annotations).toEqual({ "checksum/creds": "[secret]" });
  });
});
