import fc from "fast-check";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import {
  appAcls,
  brokerConfig,
  chartPodLabels,
  KAFKA_JMX_RULES,
  KafkaCluster,
  kafkaClusterProblems,
  listenerDnsNames,
  MIN_INSYNC_REPLICAS,
  StrimziOperator,
  strimziOperatorValues,
  topicProblems,
  topicSpec,
  type KafkaClusterArgs,
  type KafkaTopicSpec,
} from "../../components/kafka";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = (name: string, component?: string) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/part-of": "test",
  "app.kubernetes.io/managed-by": "pulumi",
  ...(component ? { "app.kubernetes.io/component": component } : {}),
});
const resources = { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
const topic = (over: Partial<KafkaTopicSpec> = {}): KafkaTopicSpec => ({
  name: "events",
  partitions: 3,
  replicas: 3,
  retentionHours: 24,
  cleanupPolicy: "delete",
  ...over,
});
const peer = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": name } } });

function clusterArgs(over: Partial<KafkaClusterArgs> = {}): KafkaClusterArgs {
  return {
    namespace: "data",
    labels,
    version: "4.3.1",
    pools: [{ name: "combined", replicas: 3, roles: ["controller", "broker"], storage: "10Gi", resources }],
    topics: [topic()],
    app: { user: "app", consumerGroupPrefix: "svc-" },
    clients: [peer("web")],
    metricsScrapers: [peer("prometheus")],
    ...over,
  };
}

describe("broker configuration", () => {
  it("replicates three times, needs two in-sync copies, never elects an out-of-sync leader, never auto-creates topics", () => {
    expect(brokerConfig()).toEqual({
      "default.replication.factor": 3,
      "min.insync.replicas": 2,
      "offsets.topic.replication.factor": 3,
      "transaction.state.log.replication.factor": 3,
      "transaction.state.log.min.isr": 2,
      "unclean.leader.election.enable": false,
      "auto.create.topics.enable": false,
    });
  });

  it("forbids topic deletion only when data is protected", () => {
    expect(brokerConfig({ protectData: true })["delete.topic.enable"]).toBe(false);
    expect(brokerConfig({ protectData: false })).not.toHaveProperty("delete.topic.enable");
  });
});

describe("topics", () => {
  it("turns hours into a finite retention.ms and keeps min.insync.replicas at 2", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 365 * 10 }), fc.constantFrom("delete" as const, "compact" as const), (hours, policy) => {
        const { config } = topicSpec(topic({ retentionHours: hours, cleanupPolicy: policy })) as { config: Record<string, unknown> };
        expect(config["retention.ms"]).toBe(hours * 3_600_000);
        expect(Number.isSafeInteger(config["retention.ms"])).toBe(true);
        expect(config["min.insync.replicas"]).toBe(MIN_INSYNC_REPLICAS);
        expect(config["cleanup.policy"]).toBe(policy);
      }),
    );
  });

  it("accepts topics the brokers can hold with one broker down", () => {
    expect(topicProblems([topic(), topic({ name: "other", replicas: 5 })], 5)).toEqual([]);
  });

  it("rejects too few replicas, more replicas than brokers, and duplicates, naming each topic", () => {
    const problems = topicProblems([topic({ name: "thin", replicas: 2 }), topic({ name: "wide", replicas: 4 }), topic({ name: "thin", replicas: 2 })], 3);
    expect(problems).toEqual([
      expect.stringMatching(/"thin": 2 replicas, expected at least 3/),
      expect.stringMatching(/"wide": 4 replicas, but only 3 brokers/),
      'topic "thin" is declared twice',
      expect.stringMatching(/"thin": 2 replicas, expected at least 3/),
    ]);
  });
});

describe("the app user's ACLs", () => {
  it("reach its topics by literal name and its consumer groups by prefix, nothing else", () => {
    const acls = appAcls(["a", "b"], "svc-") as any[];
    expect(acls).toEqual([
      { type: "allow", resource: { type: "topic", name: "a", patternType: "literal" }, operations: ["Read", "Write", "Describe"] },
      { type: "allow", resource: { type: "topic", name: "b", patternType: "literal" }, operations: ["Read", "Write", "Describe"] },
      { type: "allow", resource: { type: "group", name: "svc-", patternType: "prefix" }, operations: ["Read", "Describe"] },
    ]);
    expect(acls.some((a) => a.resource.type === "cluster" || a.resource.name === "*" || a.operations.includes("All"))).toBe(false);
  });
});

describe("JMX exporter rules", () => {
  it("parse as YAML and export replication and controller health", () => {
    const rules = YAML.parse(KAFKA_JMX_RULES);
    expect(rules.lowercaseOutputName).toBe(true);
    expect(rules.rules.length).toBeGreaterThan(5);
    for (const r of rules.rules) {
      expect(r.pattern, JSON.stringify(r)).toEqual(expect.any(String));
      expect(r.name).toMatch(/^kafka_[a-z_$0-9]+$/);
      expect(["GAUGE", "COUNTER"]).toContain(r.type);
    }
    const patterns = rules.rules.map((r: { pattern: string }) => r.pattern).join("\n");
    expect(patterns).toMatch(/ReplicaManager/);
    expect(patterns).toMatch(/UnderReplicated\|UnderMinIsr/);
    expect(patterns).toMatch(/KafkaController/);
    expect(patterns).toMatch(/raft-metrics/);
  });
});

describe("Strimzi operator values", () => {
  it("watch only the release namespace, run restricted, and leave network policies to us", () => {
    const v = strimziOperatorValues({ labels }) as any;
    expect(v).toMatchObject({ watchNamespaces: [], watchAnyNamespace: false, createGlobalResources: false, generateNetworkPolicy: false });
    expect(v.extraEnvs).toContainEqual({ name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" });
    expect(v.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true });
    expect(v.podSecurityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
  });

  it("give the operator pod only the labels the chart does not set itself", () => {
    expect(chartPodLabels(labels("op", "operator"))).toEqual({ "app.kubernetes.io/part-of": "test", "app.kubernetes.io/component": "operator" });
  });
});

describe("StrimziOperator", () => {
  const chart = { chart: "oci://example/strimzi", version: "1.2.0" };

  it("installs the chart without CRDs or cluster-wide RBAC: both are the cluster stack's", async () => {
    const plan = await planProgram("dev", async () => (new StrimziOperator("op", { namespace: "data", chart, labels, installChart: true }), {}));
    expect(ofType(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")).toHaveLength(0);
    const release = inputs(ofType(plan, "kubernetes:helm.sh/v3:Release")[0]);
    expect(release.skipCrds).toBe(true);
    expect(release.values.createGlobalResources).toBe(false);
  });

  it("installs no chart where the cluster's owners run Strimzi, and keeps its network policy", async () => {
    const plan = await planProgram("dev", async () => (new StrimziOperator("op", { namespace: "data", chart, labels, installChart: false }), {}));
    expect(ofType(plan, "kubernetes:helm.sh/v3:Release")).toHaveLength(0);
    expect(k8sObject(plan, "NetworkPolicy", "strimzi-cluster-operator", "data")).toBeDefined();
  });

  it("lets the operator reach the API server and the Kafka pods' internal ports only", async () => {
    const plan = await planProgram(
      "dev",
      async () => (new StrimziOperator("op", { namespace: "data", chart, labels, installChart: true, apiServer: { cni: "calico", cidrs: ["10.0.0.1/32"] } }), {}),
    );
    const spec = inputs(k8sObject(plan, "NetworkPolicy", "strimzi-cluster-operator", "data")).spec;
    expect(spec.ingress).toEqual([]);
    expect(spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] },
      { to: [{ podSelector: { matchLabels: { "strimzi.io/kind": "Kafka" } } }], ports: [9090, 9091, 8443].map((port) => ({ protocol: "TCP", port })) },
    ]);
  });
});

describe("KafkaCluster", () => {
  it("accepts three combined nodes, or three controllers and five brokers", () => {
    expect(kafkaClusterProblems(clusterArgs().pools, [topic()])).toEqual([]);
    const dedicated = [
      { name: "controllers", replicas: 3, roles: ["controller" as const], storage: "1Gi", resources },
      { name: "brokers", replicas: 5, roles: ["broker" as const], storage: "1Gi", resources },
    ];
    expect(kafkaClusterProblems(dedicated, [topic({ replicas: 5 })])).toEqual([]);
  });

  it("refuses a cluster it cannot run safely, listing every problem, before registering anything", () => {
    const bad = clusterArgs({
      pools: [{ name: "small", replicas: 2, roles: ["controller", "broker"], storage: "1Gi", resources }],
      topics: [topic({ replicas: 3 })],
    });
    expect(kafkaClusterProblems(bad.pools, bad.topics)).toEqual([
      "2 brokers, expected at least 3 (replication factor 3)",
      "2 controllers, expected an odd number (KRaft quorum)",
      'topic "events": 3 replicas, but only 2 brokers',
    ]);
    expect(() => new KafkaCluster("k", bad)).toThrow(/Kafka cluster "kafka" is invalid:\n {2}- 2 brokers/);
  });

  it("exposes one TLS listener with SCRAM-SHA-512, and no plain one", async () => {
    const plan = await planProgram("dev", async () => (new KafkaCluster("k", clusterArgs({ listenerPort: 9443 })), {}));
    const { spec } = inputs(k8sObject(plan, "Kafka", "kafka", "data"));
    expect(spec.kafka.listeners).toEqual([{ name: "tls", port: 9443, type: "internal", tls: true, authentication: { type: "scram-sha-512" } }]);
    expect(spec.kafka.authorization).toEqual({ type: "simple" });
    const clients = inputs(k8sObject(plan, "NetworkPolicy", "kafka-clients", "data")).spec;
    expect(clients.ingress).toEqual([{ from: [peer("web")], ports: [{ protocol: "TCP", port: 9443 }] }]);
  });

  it("makes every custom resource wait for the operator it is given", async () => {
    const plan = await planProgram("dev", async () => {
      const marker = new k8s.core.v1.ConfigMap("crds", {});
      new KafkaCluster("k", clusterArgs({ operator: marker }));
      return {};
    });
    const crds = plan.resources.find((r) => r.name === "crds")!;
    const custom = plan.resources.filter((r) => r.type.startsWith("kubernetes:kafka.strimzi.io"));
    expect(custom.map((r) => inputs(r).kind).sort()).toEqual(["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"]);
    for (const r of custom) expect(r.dependsOn, r.urn).toContain(crds.urn);
  });

  it("protects the cluster, its pools and its topics only when asked", async () => {
    const on = await planProgram("dev", async () => (new KafkaCluster("k", clusterArgs({ protectData: true })), {}));
    const off = await planProgram("dev", async () => (new KafkaCluster("k", clusterArgs()), {}));
    const stateful = (p: typeof on) => p.resources.filter((r) => ["Kafka", "KafkaNodePool", "KafkaTopic"].includes(inputs(r).kind));
    expect(stateful(on)).toHaveLength(3);
    for (const r of stateful(on)) expect([r.protect, r.retainOnDelete], r.urn).toEqual([true, true]);
    for (const r of stateful(off)) expect([r.protect, r.retainOnDelete], r.urn).toEqual([false, false]);
  });

  it("serves clients a certificate from the caller's issuer for the bootstrap and every broker, once cert-manager wrote it", async () => {
    const issuer = { name: "env-ca", kind: "ClusterIssuer", group: "cert-manager.io" } as const;
    const plan = await planProgram("dev", async () => (new KafkaCluster("k", clusterArgs({ listenerTls: { issuer } })), {}));
    const kafka = k8sObject(plan, "Kafka", "kafka", "data");
    expect(inputs(kafka).spec.kafka.listeners[0].configuration).toEqual({
      brokerCertChainAndKey: { secretName: "kafka-listener-tls", certificate: "tls.crt", key: "tls.key" },
    });
    const cert = k8sObject(plan, "Certificate", "kafka-listener-tls", "data");
    expect(inputs(cert).metadata.annotations).toEqual({ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600" });
    // Strimzi reads the listener key only as unencrypted PKCS #8.
    expect(inputs(cert).spec).toMatchObject({ secretName: "kafka-listener-tls", issuerRef: issuer, privateKey: { encoding: "PKCS8" }, dnsNames: listenerDnsNames("kafka", "data") });
    expect(kafka.dependsOn).toContain(cert.urn);
  });

  it("keeps Strimzi's cluster CA on the listener when no issuer is given", async () => {
    const plan = await planProgram("dev", async () => (new KafkaCluster("k", clusterArgs()), {}));
    expect(inputs(k8sObject(plan, "Kafka", "kafka", "data")).spec.kafka.listeners[0].configuration).toBeUndefined();
    expect(ofType(plan, "kubernetes:cert-manager.io/v1:Certificate")).toEqual([]);
  });
});

describe("listener certificate names", () => {
  it("cover the bootstrap Service and, one label deep, the brokers Strimzi advertises", () => {
    expect(listenerDnsNames("kafka", "data")).toEqual([
      "kafka-kafka-bootstrap",
      "kafka-kafka-bootstrap.data",
      "kafka-kafka-bootstrap.data.svc",
      "kafka-kafka-bootstrap.data.svc.cluster.local",
      "*.kafka-kafka-brokers.data.svc",
      "*.kafka-kafka-brokers.data.svc.cluster.local",
    ]);
    expect(listenerDnsNames("events", "ns", "svc.corp.internal")).toContain("*.events-kafka-brokers.ns.svc.corp.internal");
  });
});
