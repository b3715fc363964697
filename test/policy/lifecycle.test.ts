import { describe, expect, it } from "vitest";
import { READINESS } from "../../components/lifecycle";
import {
  configReferences,
  DATA_READINESS,
  dataResourcesAwaited,
  helmReleasesFitColdCluster,
  operandsDeletedBeforeOperators,
  podsRollOnConfigChange,
} from "../../policy/controls/lifecycle";
import { T } from "../../policy/lib/k8s";
import { DEV, deployment, evaluate, k8s, messages, urnOf, type Hand } from "./harness";

const INFRA = "diaspomoney-prod-infra";
const APP = "diaspomoney-prod";
const awaited = (waitFor: string, timeout = "1800") => ({ "pulumi.com/waitFor": waitFor, "pulumi.com/timeoutSeconds": timeout });
const urn = (h: Hand) => h.urn ?? urnOf(h);

describe("data-resources-awaited", () => {
  const kafka = (annotations?: object) => k8s(T.kafka, "kafka", INFRA, { metadata: annotations ? { annotations } : {}, spec: {} });
  const psmdb = (annotations?: object) => k8s(T.psmdb, "mongodb", INFRA, { metadata: annotations ? { annotations } : {}, spec: {} });
  const redis = (annotations?: object) => k8s(T.redisCluster, "redis", INFRA, { metadata: annotations ? { annotations } : {}, spec: {} });

  it("expects what the program writes: the control and components/lifecycle.ts agree on every ready condition", () => {
    expect(DATA_READINESS).toEqual({
      [T.kafka]: READINESS.Kafka.waitFor,
      [T.kafkaTopic]: READINESS.KafkaTopic.waitFor,
      [T.kafkaUser]: READINESS.KafkaUser.waitFor,
      [T.psmdb]: READINESS.PerconaServerMongoDB.waitFor,
      [T.redisCluster]: READINESS.RedisCluster.waitFor,
    });
  });

  it("passes data resources awaited on their ready condition with a timeout, or explicitly not awaited", async () => {
    const r = await evaluate(dataResourcesAwaited, [
      kafka(awaited("condition=Ready")),
      psmdb(awaited("jsonpath={.status.state}=ready")),
      redis({ "pulumi.com/skipAwait": "true" }),
    ]);
    expect(r.status).toBe("pass");
  });

  it("fails a resource nothing waits for, the wrong state, a missing or short timeout, and waiting and skipping at once", async () => {
    const r = await evaluate(dataResourcesAwaited, [
      kafka(),
      psmdb(awaited("jsonpath={.status.state}=Ready")),
      redis(awaited("jsonpath={.status.state}=Ready", "60")),
      k8s(T.kafkaTopic, "payments", INFRA, { metadata: { annotations: { ...awaited("condition=Ready"), "pulumi.com/skipAwait": "true" } }, spec: {} }),
    ]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^Kafka diaspomoney-prod-infra\/kafka: metadata\.annotations\["pulumi\.com\/waitFor"\] is \(not set\); pulumi up must wait for "condition=Ready"/),
      expect.stringContaining('Kafka diaspomoney-prod-infra/kafka: metadata.annotations["pulumi.com/timeoutSeconds"] is (not set)'),
      expect.stringContaining('PerconaServerMongoDB diaspomoney-prod-infra/mongodb: metadata.annotations["pulumi.com/waitFor"] is "jsonpath={.status.state}=Ready"; pulumi up must wait for "jsonpath={.status.state}=ready"'),
      expect.stringContaining('RedisCluster diaspomoney-prod-infra/redis: metadata.annotations["pulumi.com/timeoutSeconds"] is "60"'),
      expect.stringContaining('KafkaTopic diaspomoney-prod-infra/payments: metadata.annotations["pulumi.com/skipAwait"] is "true"; skipping the wait contradicts pulumi.com/waitFor'),
    ]);
  });

  it("does not apply to custom resources that are not data stores", async () => {
    const r = await evaluate(dataResourcesAwaited, [k8s(T.kafkaNodePool, "brokers", INFRA, { spec: {} })]);
    expect(r.status).toBe("not-applicable");
  });
});

describe("pods-roll-on-config-change", () => {
  const secret = (name: string, ns = APP) => k8s(T.secret, name, ns, { type: "Opaque", stringData: { k: "[secret]" } });
  const reading = (annotations: Record<string, string>) =>
    deployment("web", (pod, spec) => {
      spec.template.metadata.annotations = annotations;
      pod.containers[0].envFrom = [{ secretRef: { name: "data-connections" } }];
      pod.containers[0].env.push({ name: "SENTRY_DSN", valueFrom: { secretKeyRef: { name: "sentry", key: "SENTRY_DSN", optional: true } } });
      pod.volumes.push({ name: "ca", secret: { secretName: "data-client-tls" } });
    }, APP);

  it("finds every Secret and ConfigMap a pod spec reads", () => {
    const refs = configReferences(
      {
        initContainers: [{ envFrom: [{ configMapRef: { name: "init" } }] }],
        containers: [{ env: [{ valueFrom: { configMapKeyRef: { name: "cm" } } }, { value: "x" }], envFrom: [{ secretRef: { name: "s1" } }] }],
        volumes: [{ secret: { secretName: "s2" } }, { configMap: { name: "cm2" } }, { projected: { sources: [{ secret: { name: "s3" } }, { configMap: { name: "cm3" } }] } }, { emptyDir: {} }],
      },
      "spec",
    );
    expect(refs.map((r) => `${r.kind}/${r.name}`)).toEqual(["ConfigMap/init", "Secret/s1", "ConfigMap/cm", "Secret/s2", "ConfigMap/cm2", "Secret/s3", "ConfigMap/cm3"]);
  });

  it("passes a Deployment carrying the checksum of every Secret of the stack it reads (cert-manager's own Secrets are not the stack's)", async () => {
    const r = await evaluate(podsRollOnConfigChange, [secret("data-connections"), secret("sentry"), reading({ "checksum/data-connections": "ab12", "checksum/sentry": "cd34" })]);
    expect(r.status).toBe("pass");
    expect(r.evidence.map((e) => e.property)).toEqual(['spec.template.metadata.annotations["checksum/data-connections"]', 'spec.template.metadata.annotations["checksum/sentry"]']);
  });

  it("fails a Deployment whose pods would keep reading a rotated Secret", async () => {
    const r = await evaluate(podsRollOnConfigChange, [secret("data-connections"), secret("sentry"), reading({ "checksum/data-connections": "ab12" })]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^Deployment diaspomoney-prod\/web: spec\.template\.metadata\.annotations\["checksum\/sentry"\] is \(not set\); the pods read Secret sentry \(spec\.template\.spec\.containers\[0\]\.env\[1\]\.valueFrom\.secretKeyRef\)/),
    ]);
  });

  it("ignores Secrets of another namespace, and applies to nothing when no workload reads the stack's Secrets", async () => {
    const r = await evaluate(podsRollOnConfigChange, [secret("data-connections", INFRA), secret("sentry", INFRA), reading({})]);
    expect(r.status).toBe("not-applicable");
  });
});

describe("operands-deleted-before-operators", () => {
  const release = (chart: string, name: string) => ({ type: T.helmRelease, name, inputs: { name, chart, namespace: INFRA, skipAwait: false, atomic: true, timeout: 900 } });
  const strimzi = release("oci://quay.io/strimzi-helm/strimzi-kafka-operator", "strimzi");
  const psmdbOperator = release("psmdb-operator", "psmdb-operator");
  const cluster = { "strimzi.io/cluster": "kafka" };
  const kafka = (dependsOn: string[]) => k8s(T.kafka, "kafka", INFRA, { spec: {} }, { dependsOn });
  const pool = k8s(T.kafkaNodePool, "brokers", INFRA, { metadata: { labels: cluster }, spec: {} });
  const topic = (dependsOn: string[]) => k8s(T.kafkaTopic, "payments", INFRA, { metadata: { labels: cluster }, spec: {} }, { dependsOn });
  const user = (dependsOn: string[]) => k8s(T.kafkaUser, "app", INFRA, { metadata: { labels: cluster }, spec: {} }, { dependsOn });
  const mongo = (dependsOn: string[]) => k8s(T.psmdb, "mongodb", INFRA, { spec: {} }, { dependsOn });

  it("passes topics and users that depend on their Kafka and its pools, and operands that depend on their operator's release", async () => {
    const k = kafka([urn(strimzi)]);
    const r = await evaluate(operandsDeletedBeforeOperators, [strimzi, psmdbOperator, k, pool, topic([urn(k), urn(pool)]), user([urn(k), urn(pool)]), mongo([urn(psmdbOperator)])]);
    expect(r.status).toBe("pass");
  });

  it("fails a topic deleted in parallel with its cluster, a user without the pools, a Kafka and a replica set without their operator", async () => {
    const k = kafka([]);
    const r = await evaluate(operandsDeletedBeforeOperators, [strimzi, psmdbOperator, k, pool, topic([urn(strimzi)]), user([urn(k)]), mongo([])]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^KafkaTopic diaspomoney-prod-infra\/payments: dependsOn is "Kafka diaspomoney-prod-infra\/kafka"; must depend on its Kafka/),
      expect.stringContaining('KafkaTopic diaspomoney-prod-infra/payments: dependsOn is "KafkaNodePool diaspomoney-prod-infra/brokers"; must depend on the node pools'),
      expect.stringContaining('KafkaUser diaspomoney-prod-infra/app: dependsOn is "KafkaNodePool diaspomoney-prod-infra/brokers"'),
      expect.stringContaining('Kafka diaspomoney-prod-infra/kafka: dependsOn is "Release diaspomoney-prod-infra/strimzi"; must depend on its operator\'s release'),
      expect.stringContaining('PerconaServerMongoDB diaspomoney-prod-infra/mongodb: dependsOn is "Release diaspomoney-prod-infra/psmdb-operator"'),
    ]);
  });

  it("fails a topic whose Kafka the stack does not declare", async () => {
    const r = await evaluate(operandsDeletedBeforeOperators, [topic([])]);
    expect(messages(r)).toEqual([expect.stringContaining('metadata.labels["strimzi.io/cluster"] is "kafka"; its Kafka must be declared in the same stack')]);
  });
});

describe("helm-releases-fit-cold-cluster", () => {
  const release = (inputs: object) => ({ type: T.helmRelease, name: "op", inputs: { name: "op", chart: "op", namespace: INFRA, ...inputs } });

  it("passes a waiting release with 15 minutes, and a release that neither waits nor is atomic", async () => {
    expect((await evaluate(helmReleasesFitColdCluster, [release({ atomic: true, skipAwait: false, timeout: 900 })])).status).toBe("pass");
    expect((await evaluate(helmReleasesFitColdCluster, [release({ atomic: false, skipAwait: true, timeout: 900 })], DEV)).status).toBe("pass");
  });

  it("fails Helm's default timeout and an atomic release that is told not to wait", async () => {
    const r = await evaluate(helmReleasesFitColdCluster, [release({ atomic: true }), { ...release({ atomic: true, skipAwait: true }), name: "op2" }]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^Release "op": timeout is \(not set\); a waiting release needs a timeout of at least 900 s/),
      expect.stringMatching(/^Release "op2": atomic is true; a release that skips waiting cannot be atomic/),
    ]);
  });
});
