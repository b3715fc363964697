/**
 * Build 3, delete order: custom resources go before what clears their finalizers. KafkaTopics and
 * KafkaUsers before the Kafka (whose entity operator runs the Topic and User Operators) and its node
 * pools; the Kafka, the replica set and the Redis cluster before their operator's release.
 */
import { describe, expect, it } from "vitest";
import { KafkaCluster, StrimziOperator, type KafkaClusterArgs } from "../../components/kafka";
import { MongoReplicaSet, PerconaMongoOperator } from "../../components/mongodb";
import { RedisCluster, RedisOperator } from "../../components/redis";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { operandsDeletedBeforeOperators } from "../../policy/controls/lifecycle";
import { inputs, ofType, planProgram, type Plan, type RecordedResource } from "../harness";
import { PROD } from "../policy/harness";
import { deletedBefore, withDependencies } from "./graph";

const labels = (name: string, component?: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "test", ...(component ? { "app.kubernetes.io/component": component } : {}) });
const resources = { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
const peer = { podSelector: { matchLabels: { app: "web" } } };
const api = { cni: "calico" as const, cidrs: ["10.0.0.1/32"] };

function kafkaArgs(operator: StrimziOperator): KafkaClusterArgs {
  return {
    namespace: "data",
    labels,
    version: "4.3.1",
    pools: [
      { name: "controllers", replicas: 3, roles: ["controller"], storage: "10Gi", resources },
      { name: "brokers", replicas: 3, roles: ["broker"], storage: "10Gi", resources },
    ],
    topics: [
      { name: "payments", partitions: 3, replicas: 3, retentionHours: 24, cleanupPolicy: "delete" },
      { name: "audit", partitions: 3, replicas: 3, retentionHours: 24, cleanupPolicy: "delete" },
    ],
    app: { user: "app", consumerGroupPrefix: "svc-" },
    clients: [peer],
    metricsScrapers: [peer],
    operator,
    apiServer: api,
  };
}

const kafkaPlan = () =>
  planProgram("dev", async () => {
    const operator = new StrimziOperator("strimzi", { namespace: "data", chart: { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0" }, labels, installChart: true, apiServer: api });
    new KafkaCluster("kafka", kafkaArgs(operator));
    return {};
  });

const kind = (plan: Plan, k: string) => plan.resources.filter((r) => (inputs(r) as { kind?: string }).kind === k);
const one = (plan: Plan, k: string): RecordedResource => {
  const found = kind(plan, k);
  expect(found, k).toHaveLength(1);
  return found[0];
};

describe("a Kafka cluster's destroy", () => {
  it("deletes every topic and user before the Kafka, its node pools and the policies its operators need", async () => {
    const plan = await kafkaPlan();
    const kafka = one(plan, "Kafka");
    const pools = kind(plan, "KafkaNodePool");
    const policies = ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((p) => inputs(p).metadata.name.startsWith("kafka-"));
    expect(pools).toHaveLength(2);
    expect(policies.map((p) => inputs(p).metadata.name).sort()).toEqual(["kafka-clients", "kafka-entity-operator", "kafka-exporter", "kafka-nodes"]);
    for (const entity of [...kind(plan, "KafkaTopic"), ...kind(plan, "KafkaUser")]) {
      for (const target of [kafka, ...pools, ...policies]) expect(deletedBefore(plan, entity, target), `${entity.name} before ${target.name}`).toBe(true);
    }
  });

  it("deletes the Kafka before the operator's release, which must still run for the entity operator's pods", async () => {
    const plan = await kafkaPlan();
    const release = ofType(plan, "kubernetes:helm.sh/v3:Release")[0];
    expect(deletedBefore(plan, one(plan, "Kafka"), release)).toBe(true);
    for (const topic of kind(plan, "KafkaTopic")) expect(deletedBefore(plan, topic, release)).toBe(true);
  });

  it("passes the policy control, which fails the same plan once topics lose their edge to the cluster", async () => {
    const plan = await kafkaPlan();
    const audit = async (p: Plan) => (await evaluatePlan(p, PROD, [operandsDeletedBeforeOperators])).controls[0];
    expect((await audit(plan)).status).toBe("pass");

    // What the component did before: topics depending on the operator only, deleted in parallel with the cluster.
    const release = ofType(plan, "kubernetes:helm.sh/v3:Release")[0];
    const parallel = withDependencies(plan, (r) => ((inputs(r) as { kind?: string }).kind === "KafkaTopic" ? [release.urn] : undefined));
    const topic = kind(parallel, "KafkaTopic")[0];
    expect(deletedBefore(parallel, topic, one(parallel, "Kafka"))).toBe(false);
    const failed = await audit(parallel);
    expect(failed.status).toBe("fail");
    expect(failed.violations.map((v) => v.message)).toEqual(
      expect.arrayContaining([expect.stringContaining("KafkaTopic data/payments: dependsOn is \"Kafka data/kafka\"; must depend on its Kafka")]),
    );
  });
});

describe("the data stores' destroy", () => {
  it("deletes the replica set before its operator (release, egress and API-server access) and before its own network policy", async () => {
    const plan = await planProgram("dev", async () => {
      const operator = new PerconaMongoOperator("psmdb-operator", {
        namespace: "data",
        chart: { chart: "psmdb-operator", repo: "https://percona.github.io/percona-helm-charts/", version: "1.22.0" },
        image: "percona/percona-server-mongodb-operator:1.22.0",
        installChart: true,
        labels: {},
        apiServer: api,
      });
      new MongoReplicaSet("mongodb", {
        namespace: "data",
        labels: {},
        crVersion: "1.22.0",
        images: { mongod: "r/mongod:1", backup: "r/pbm:1", exporter: "r/exporter:1", init: "r/operator:1" },
        members: 3,
        storage: "10Gi",
        resources,
        appUser: { name: "app", database: "app" },
        backup: { bucket: "b", region: "eu-west-3", endpointUrl: "https://s3.example", accessKeyId: "a", secretAccessKey: "s", schedule: "0 0 * * *", keep: 7, pointInTimeRecovery: false },
        clients: [],
        metricsScrapers: [],
        operatorPodLabels: operator.podLabels,
        operator,
      });
      return {};
    });
    const psmdb = one(plan, "PerconaServerMongoDB");
    const release = ofType(plan, "kubernetes:helm.sh/v3:Release")[0];
    const policies = ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(policies.map((p) => inputs(p).metadata.name).sort()).toEqual(["mongodb", "psmdb-operator"]);
    for (const target of [release, ...policies]) expect(deletedBefore(plan, psmdb, target), target.name).toBe(true);
    expect((await evaluatePlan(plan, PROD, [operandsDeletedBeforeOperators])).controls[0].status).toBe("pass");
  });

  it("deletes the Redis cluster before its operator's release", async () => {
    const plan = await planProgram("dev", async () => {
      const operator = new RedisOperator("redis-operator", {
        namespace: "data",
        chart: { chart: "redis-operator", repo: "https://ot-container-kit.github.io/helm-charts/", version: "0.26.0" },
        image: { repository: "quay.io/opstree/redis-operator", tag: "v0.26.0" },
        labels,
        installChart: true,
        apiServer: api,
      });
      new RedisCluster("redis", { namespace: "data", labels, leaders: 3, followersPerLeader: 1, storage: "1Gi", resources, images: { redis: "r/redis:7", exporter: "r/exporter:1" }, clients: [], metricsScrapers: [], operator });
      return {};
    });
    expect(deletedBefore(plan, one(plan, "RedisCluster"), ofType(plan, "kubernetes:helm.sh/v3:Release")[0])).toBe(true);
    expect((await evaluatePlan(plan, PROD, [operandsDeletedBeforeOperators])).controls[0].status).toBe("pass");
  });
});
