/**
 * Build 3, first deploy: the data custom resources are awaited until their operators report them
 * ready, the app's Deployments start only after them, and `kubernetes.awaitReadiness: false` turns
 * every wait into an explicit skip instead.
 */
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { AppDeployment, type AppDeploymentArgs } from "../../components/app";
import { KafkaCluster } from "../../components/kafka";
import { MongoReplicaSet } from "../../components/mongodb";
import { RedisCluster } from "../../components/redis";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { dataResourcesAwaited } from "../../policy/controls/lifecycle";
import { inputs, planProgram, type Plan, type RecordedResource } from "../harness";
import { PROD } from "../policy/harness";
import { deletedBefore } from "./graph";

const labels = (name: string, component?: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "test", ...(component ? { "app.kubernetes.io/component": component } : {}) });
const resources = { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };

/** The three data stores and the app, as the environment wires them (`after` = the stores' `ready`). */
function dataAndApp(awaitReadiness: boolean | undefined, wire = true) {
  return planProgram("dev", async () => {
    const kafka = new KafkaCluster("kafka", {
      namespace: "data",
      labels,
      version: "4.3.1",
      pools: [{ name: "combined", replicas: 3, roles: ["controller", "broker"], storage: "10Gi", resources }],
      topics: [{ name: "payments", partitions: 3, replicas: 3, retentionHours: 24, cleanupPolicy: "delete" }],
      app: { user: "app", consumerGroupPrefix: "svc-" },
      clients: [],
      metricsScrapers: [],
      awaitReadiness,
    });
    const mongo = new MongoReplicaSet("mongodb", {
      namespace: "data",
      labels: {},
      crVersion: "1.22.0",
      images: { mongod: "r/mongod:1", backup: "r/pbm:1", exporter: "r/exporter:1", init: "r/operator:1" },
      members: 1,
      storage: "10Gi",
      resources,
      appUser: { name: "app", database: "app" },
      backup: { bucket: "b", region: "eu-west-3", endpointUrl: "https://s3.example", accessKeyId: "a", secretAccessKey: "s", schedule: "0 0 * * *", keep: 7, pointInTimeRecovery: false },
      clients: [],
      metricsScrapers: [],
      operatorPodLabels: {},
      awaitReadiness,
    });
    const redis = new RedisCluster("redis", { namespace: "data", labels, leaders: 3, followersPerLeader: 1, storage: "1Gi", resources, images: { redis: "r/redis:7", exporter: "r/exporter:1" }, clients: [], metricsScrapers: [], awaitReadiness });
    const app: AppDeploymentArgs = {
      namespace: "apps",
      labels: { "app.kubernetes.io/name": "web" },
      selectorLabels: { "app.kubernetes.io/name": "web" },
      image: "registry.example/web:1",
      replicas: 2,
      maxReplicas: 4,
      resources,
      connectionSecretName: "connections",
      network: { ingressFrom: [], dataNamespace: "data", dataPorts: [27017] },
      awaitReadiness,
      ...(wire ? { after: [...kafka.ready, ...mongo.ready, ...redis.ready] } : {}),
    };
    new AppDeployment("app", app);
    return {};
  });
}

const byKind = (plan: Plan, kind: string) => plan.resources.filter((r) => r.type.startsWith("kubernetes:") && (inputs(r) as { kind?: string }).kind === kind);
const annotations = (r: RecordedResource) => inputs(r).metadata?.annotations;
const DATA_KINDS = ["Kafka", "KafkaTopic", "KafkaUser", "PerconaServerMongoDB", "RedisCluster"];

describe("data custom resources on the first deploy", () => {
  it("are awaited on their ready condition, with half an hour for the stores and ten minutes for topics and users", async () => {
    const plan = await dataAndApp(undefined);
    const waits = Object.fromEntries(DATA_KINDS.map((k) => [k, byKind(plan, k).map(annotations)]));
    expect(waits).toEqual({
      Kafka: [{ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "1800" }],
      KafkaTopic: [{ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600" }],
      KafkaUser: [{ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600" }],
      PerconaServerMongoDB: [{ "pulumi.com/waitFor": "jsonpath={.status.state}=ready", "pulumi.com/timeoutSeconds": "1800" }],
      RedisCluster: [expect.objectContaining({ "pulumi.com/waitFor": "jsonpath={.status.state}=Ready", "pulumi.com/timeoutSeconds": "1800" })],
    });
    // Node pools report no Ready condition of their own: the Kafka's covers them.
    for (const pool of byKind(plan, "KafkaNodePool")) expect(annotations(pool)).toBeUndefined();
    expect((await evaluatePlan(plan, PROD, [dataResourcesAwaited])).controls[0].status).toBe("pass");
  });

  it("keep Pulumi's annotations off the Redis pods (the operator copies the rest to them)", async () => {
    const plan = await dataAndApp(undefined);
    expect(inputs(byKind(plan, "RedisCluster")[0]).spec.kubernetesConfig.ignoreAnnotations).toEqual(["pulumi.com/waitFor", "pulumi.com/timeoutSeconds", "pulumi.com/skipAwait"]);
  });

  it("start the app only once they are ready: its Deployment goes after every one of them, its Service after it", async () => {
    const plan = await dataAndApp(undefined);
    const deployment = byKind(plan, "Deployment")[0];
    for (const k of DATA_KINDS) for (const cr of byKind(plan, k)) expect(deletedBefore(plan, deployment, cr), `web after ${k} ${cr.name}`).toBe(true);
    expect(annotations(deployment)).toEqual({ "pulumi.com/timeoutSeconds": "900" });
    const service = byKind(plan, "Service")[0];
    expect(deletedBefore(plan, service, deployment)).toBe(true);
    expect(annotations(service)).toEqual({ "pulumi.com/timeoutSeconds": "900" });
  });

  it("would let the app start against missing stores without the data layer's `ready` (the failing case)", async () => {
    const plan = await dataAndApp(undefined, false);
    const deployment = byKind(plan, "Deployment")[0];
    for (const k of DATA_KINDS) for (const cr of byKind(plan, k)) expect(deletedBefore(plan, deployment, cr)).toBe(false);
  });

  it("are explicitly not awaited, nor anything else, where readiness is off (a control plane without nodes)", async () => {
    const plan = await dataAndApp(false);
    const skipped = [...DATA_KINDS, "Certificate", "Deployment", "Service"].flatMap((k) => byKind(plan, k));
    expect(skipped.length).toBeGreaterThanOrEqual(7);
    for (const r of skipped) {
      expect(annotations(r), r.name).toMatchObject({ "pulumi.com/skipAwait": "true" });
      expect(annotations(r), r.name).not.toHaveProperty(["pulumi.com/waitFor"]);
    }
    expect((await evaluatePlan(plan, PROD, [dataResourcesAwaited])).controls[0].status).toBe("pass");
  });

  it("fail the policy control when a data resource says nothing about waiting", async () => {
    const plan = await planProgram("dev", async () => {
      new k8s.apiextensions.CustomResource("bare", { apiVersion: "redis.redis.opstreelabs.in/v1beta2", kind: "RedisCluster", metadata: { name: "bare", namespace: "data" }, spec: {} });
      return {};
    });
    const result = (await evaluatePlan(plan, PROD, [dataResourcesAwaited])).controls[0];
    expect(result.status).toBe("fail");
    expect(result.violations[0].message).toContain('RedisCluster data/bare: metadata.annotations["pulumi.com/waitFor"] is (not set)');
  });
});
