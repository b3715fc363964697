/**
 * Build 3, Secrets and ConfigMaps: the provider updates them in place (`enableSecretMutable`,
 * `enableConfigMapMutable`), and the pods that read them roll because their template carries the
 * checksum of the data.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AppDeployment, type AppDeploymentArgs } from "../../components/app";
import { checksum, checksumOfEntries } from "../../components/lifecycle";
import { RedisCluster } from "../../components/redis";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { podsRollOnConfigChange } from "../../policy/controls/lifecycle";
import { inputs, k8sObject, planProgram, type Plan } from "../harness";
import { PROD } from "../policy/harness";

const resources = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } };

/** The app reading a connection Secret the program declares, with the given data and key ids. */
function appPlan(opts: { password: string; keyIds?: string[]; rollOn?: boolean }): Promise<Plan> {
  return planProgram("dev", async () => {
    const data = { MONGODB_URI: pulumi.secret(`mongodb://app:${opts.password}@mongodb:27017/app`), REDIS_TLS: pulumi.secret("true") };
    new k8s.core.v1.Secret("connections", { metadata: { name: "connections", namespace: "apps" }, stringData: data });
    const args: AppDeploymentArgs = {
      namespace: "apps",
      labels: { "app.kubernetes.io/name": "web" },
      selectorLabels: { "app.kubernetes.io/name": "web" },
      image: "registry.example/web:1",
      replicas: 2,
      maxReplicas: 4,
      resources,
      connectionSecretName: "connections",
      network: { ingressFrom: [], dataNamespace: "data", dataPorts: [27017] },
      fieldEncryption: { dataKeys: (opts.keyIds ?? ["banking-1"]).map((id) => ({ id, purpose: "banking", wrapped: `vault:v1:${Buffer.from(id).toString("base64")}` })) },
      ...(opts.rollOn === false ? {} : { rollOn: { connections: checksum(data) } }),
    };
    new AppDeployment("app", args);
    return {};
  });
}

const podAnnotations = (plan: Plan) => inputs(k8sObject(plan, "Deployment", "web", "apps")).spec.template.metadata.annotations;

describe("the app's pods", () => {
  it("carry the checksum of every Secret they read: the connections, and the field-encryption keys", async () => {
    const a = podAnnotations(await appPlan({ password: "first-generated-password" }));
    expect(Object.keys(a).filter((k) => k.startsWith("checksum/")).sort()).toEqual(["checksum/connections", "checksum/web-field-encryption"]);
    expect(a["checksum/connections"]).toBe(checksumOfEntries({ MONGODB_URI: "mongodb://app:first-generated-password@mongodb:27017/app", REDIS_TLS: "true" }));
    expect(a["checksum/web-field-encryption"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("roll when a password in the connection Secret changes, and only then", async () => {
    const first = podAnnotations(await appPlan({ password: "first-generated-password" }));
    const same = podAnnotations(await appPlan({ password: "first-generated-password" }));
    const rotated = podAnnotations(await appPlan({ password: "rotated-generated-password" }));
    expect(same).toEqual(first);
    expect(rotated["checksum/connections"]).not.toBe(first["checksum/connections"]);
    expect(rotated["checksum/web-field-encryption"]).toBe(first["checksum/web-field-encryption"]);
  });

  it("roll when a wrapped data key is added (rotation)", async () => {
    const before = podAnnotations(await appPlan({ password: "p", keyIds: ["banking-1"] }));
    const after = podAnnotations(await appPlan({ password: "p", keyIds: ["banking-1", "banking-2"] }));
    expect(after["checksum/web-field-encryption"]).not.toBe(before["checksum/web-field-encryption"]);
  });

  it("never show a secret in the plan: the checksum is a plain hash, the Secret's data stays masked", async () => {
    const plan = await appPlan({ password: "first-generated-password" });
    expect(JSON.stringify(plan.resources)).not.toContain("first-generated-password");
    expect(inputs(k8sObject(plan, "Secret", "connections", "apps")).stringData.MONGODB_URI).toBe("[secret]");
  });

  it("pass the policy control, which fails the app left unaware of its connection Secret", async () => {
    const audit = async (p: Plan) => (await evaluatePlan(p, PROD, [podsRollOnConfigChange])).controls[0];
    expect((await audit(await appPlan({ password: "p" }))).status).toBe("pass");
    const unaware = await audit(await appPlan({ password: "p", rollOn: false }));
    expect(unaware.status).toBe("fail");
    expect(unaware.violations.map((v) => v.message)).toEqual([expect.stringContaining('Deployment apps/web: spec.template.metadata.annotations["checksum/connections"] is (not set)')]);
  });
});

describe("the Redis pods", () => {
  const redisPlan = (memory: string) =>
    planProgram("dev", async () => {
      new RedisCluster("redis", {
        namespace: "data",
        labels: (name) => ({ "app.kubernetes.io/name": name }),
        leaders: 3,
        followersPerLeader: 1,
        storage: "1Gi",
        resources: { requests: { cpu: "100m", memory }, limits: { cpu: "1", memory } },
        images: { redis: "r/redis:7", exporter: "r/exporter:1" },
        clients: [],
        metricsScrapers: [],
      });
      return {};
    });
  const configChecksum = (plan: Plan) => inputs(k8sObject(plan, "RedisCluster", "redis", "data")).metadata.annotations["checksum/redis-config"];

  it("roll when their additional configuration (maxmemory from the memory limit) changes", async () => {
    const small = await redisPlan("1Gi");
    const config = inputs(k8sObject(small, "ConfigMap", "redis-config", "data")).data;
    expect(configChecksum(small)).toBe(checksumOfEntries(config));
    expect(configChecksum(await redisPlan("1Gi"))).toBe(configChecksum(small));
    expect(configChecksum(await redisPlan("2Gi"))).not.toBe(configChecksum(small));
  });
});
