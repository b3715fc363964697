import { describe, expect, it } from "vitest";
import { environments } from "../../stacks";
import { computedState } from "../../infra/plan/recorder";
import { KAFKA_APP_USER, KAFKA_CONSUMER_GROUP_PREFIX, kafkaNodePools } from "../../infra/data/kafka";
import { environmentSpecSchema } from "../../infra/config/schema";
import { charts, operands } from "../../infra/versions";
import { cachedPlan, inputs, k8sObject, ofType, STACKS, type Plan } from "../harness";

const expected = {
  dev: { pools: { combined: { replicas: 3, roles: ["controller", "broker"] } }, brokers: 3, protect: false },
  rct: { pools: { combined: { replicas: 3, roles: ["controller", "broker"] } }, brokers: 3, protect: false },
  prod: {
    pools: { controllers: { replicas: 3, roles: ["controller"] }, brokers: { replicas: 5, roles: ["broker"] } },
    brokers: 5,
    protect: true,
  },
} as const;

const byKind = (plan: Plan, kind: string) => plan.resources.filter((r) => r.type.startsWith("kubernetes:") && inputs(r).kind === kind);
const HOUR_MS = 3_600_000;

describe.each(STACKS)("Kafka in %s", (stack) => {
  const infra = `diaspomoney-${stack}-infra`;
  const app = `diaspomoney-${stack}`;
  const spec = environmentSpecSchema.parse(environments[stack]);
  const kafkaCr = async () => inputs(k8sObject(await cachedPlan(stack), "Kafka", "kafka", infra));

  it(`runs ${expected[stack].brokers} brokers in the expected node pools`, async () => {
    const plan = await cachedPlan(stack);
    const pools: Record<string, any> = Object.fromEntries(byKind(plan, "KafkaNodePool").map((r) => [inputs(r).metadata.name, inputs(r)]));
    expect(Object.fromEntries(Object.entries(pools).map(([n, p]) => [n, { replicas: p.spec.replicas, roles: p.spec.roles }]))).toEqual(expected[stack].pools);
    const brokers = Object.values(pools).filter((p) => p.spec.roles.includes("broker")).reduce((n, p) => n + p.spec.replicas, 0);
    expect(brokers).toBe(expected[stack].brokers);
    for (const p of Object.values(pools)) {
      expect(p.metadata.labels["strimzi.io/cluster"]).toBe("kafka");
      const sized = p.metadata.name === "controllers" && spec.kafka.controllers ? spec.kafka.controllers : spec.kafka;
      expect(p.spec.storage).toEqual({ type: "jbod", volumes: [{ id: 0, type: "persistent-claim", size: sized.storage, deleteClaim: false, kraftMetadata: "shared" }] });
      expect(p.spec.resources).toEqual(sized.resources);
      const spread = p.spec.template.pod.topologySpreadConstraints;
      expect(spread[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" });
      expect(p.spec.template.pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
    }
  });

  it("configures the brokers for durability: RF 3, min ISR 2, no unclean election, no auto-created topic", async () => {
    const { spec: s } = await kafkaCr();
    expect(s.kafka.version).toBe(operands.kafka);
    expect(s.kafka.config).toMatchObject({
      "default.replication.factor": 3,
      "min.insync.replicas": 2,
      "offsets.topic.replication.factor": 3,
      "transaction.state.log.replication.factor": 3,
      "transaction.state.log.min.isr": 2,
      "unclean.leader.election.enable": false,
      "auto.create.topics.enable": false,
    });
    expect(s.kafka.rack).toEqual({ type: "topology-label", topologyKey: "topology.kubernetes.io/zone" });
    expect(s.kafka.template.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
    // Strimzi 1.x: node pools carry replicas and storage; spec.kafka has neither.
    expect(s.kafka).not.toHaveProperty("replicas");
    expect(s.kafka).not.toHaveProperty("storage");
  });

  it("listens only on TLS with SCRAM-SHA-512, with simple authorization and no super user", async () => {
    const { spec: s } = await kafkaCr();
    expect(s.kafka.listeners).toEqual([
      {
        name: "tls",
        port: 9093,
        type: "internal",
        tls: true,
        authentication: { type: "scram-sha-512" },
        configuration: { brokerCertChainAndKey: { secretName: "kafka-listener-tls", certificate: "tls.crt", key: "tls.key" } },
      },
    ]);
    expect(s.kafka.listeners.some((l: { tls: boolean }) => !l.tls)).toBe(false);
    expect(s.kafka.authorization).toEqual({ type: "simple" });
  });

  it("declares the stack's topics with partitions, replicas, bounded retention and min ISR 2", async () => {
    const plan = await cachedPlan(stack);
    const topics = byKind(plan, "KafkaTopic").map(inputs);
    expect(topics.map((t) => t.metadata.name).sort()).toEqual(spec.kafka.topics.map((t) => t.name).sort());
    for (const declared of spec.kafka.topics) {
      const t = topics.find((x) => x.metadata.name === declared.name);
      expect(t.metadata.labels["strimzi.io/cluster"]).toBe("kafka");
      expect(t.spec).toEqual({
        partitions: declared.partitions,
        replicas: declared.replicas,
        config: { "retention.ms": declared.retentionHours * HOUR_MS, "min.insync.replicas": 2, "cleanup.policy": declared.cleanupPolicy },
      });
      expect(t.spec.config["retention.ms"]).toBeGreaterThan(0);
      expect(t.spec.replicas).toBeLessThanOrEqual(expected[stack].brokers);
    }
    const audit = topics.find((t) => t.metadata.name === "audit-log");
    expect(audit.spec.config["retention.ms"]).toBe(365 * 24 * HOUR_MS);
  });

  it("gives the app user SCRAM-SHA-512 with a generated password and ACLs on its topics and groups only", async () => {
    const plan = await cachedPlan(stack);
    const user = inputs(k8sObject(plan, "KafkaUser", KAFKA_APP_USER, infra));
    expect(user.spec.authentication).toEqual({ type: "scram-sha-512", password: { valueFrom: { secretKeyRef: { name: "kafka-app-password", key: "password" } } } });
    const acls = user.spec.authorization.acls;
    const topicNames = new Set(spec.kafka.topics.map((t) => t.name));
    for (const acl of acls) {
      expect(acl.type).toBe("allow");
      if (acl.resource.type === "topic") {
        expect(acl.resource.patternType).toBe("literal");
        expect(topicNames.has(acl.resource.name), acl.resource.name).toBe(true);
      } else {
        expect(acl.resource).toEqual({ type: "group", name: KAFKA_CONSUMER_GROUP_PREFIX, patternType: "prefix" });
      }
      expect(acl.operations.every((o: string) => ["Read", "Write", "Describe"].includes(o))).toBe(true);
    }
    expect(acls.filter((a: { resource: { type: string } }) => a.resource.type === "topic")).toHaveLength(topicNames.size);
  });

  it("keeps the password a secret everywhere: masked in the Secret, the generated value nowhere in the plan", async () => {
    const plan = await cachedPlan(stack);
    const secret = k8sObject(plan, "Secret", "kafka-app-password", infra);
    expect(inputs(secret).stringData).toEqual({ password: "[secret]" });
    const [generator] = ofType(plan, "random:index/randomPassword:RandomPassword").filter((r) => r.name === "kafka-app-password");
    expect(inputs(generator)).toMatchObject({ length: 32, special: false });
    expect(secret.dependsOn).toContain(generator.urn);
    const fake = computedState(generator.type, generator.name, inputs(generator)).result as string;
    expect(fake).toHaveLength(32);
    expect(JSON.stringify(plan)).not.toContain(fake);
    expect((plan.outputs as any).data.kafka).toMatchObject({ bootstrapServers: `kafka-kafka-bootstrap.${infra}.svc:9093`, username: KAFKA_APP_USER, saslMechanism: "SCRAM-SHA-512" });
    expect(JSON.stringify((plan.outputs as any).data.kafka)).not.toMatch(/password|\[secret\]/i);
  });

  it("exports metrics: JMX rules from a ConfigMap, and the exporter for the app's topics and groups", async () => {
    const plan = await cachedPlan(stack);
    const { spec: s } = await kafkaCr();
    expect(s.kafka.metricsConfig).toEqual({ type: "jmxPrometheusExporter", valueFrom: { configMapKeyRef: { name: "kafka-metrics", key: "kafka-metrics-config.yml" } } });
    expect(inputs(k8sObject(plan, "ConfigMap", "kafka-metrics", infra)).data["kafka-metrics-config.yml"]).toMatch(/lowercaseOutputName: true/);
    expect(s.kafkaExporter.topicRegex).toBe(`^(${spec.kafka.topics.map((t) => t.name).join("|")})$`);
    expect(s.kafkaExporter.groupRegex).toBe(`^${KAFKA_CONSUMER_GROUP_PREFIX}.*`);
  });

  it("lets the app reach the brokers on 9093 only, Prometheus the metrics ports only, and Strimzi its internal ports", async () => {
    const plan = await cachedPlan(stack);
    const appPeer = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": app } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "web" } } };
    const promPeer = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": app } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } };
    const policy = (name: string) => inputs(k8sObject(plan, "NetworkPolicy", name, infra)).spec;
    const ports = (rule: { ports: { port: number }[] }) => rule.ports.map((p) => p.port);

    const clients = policy("kafka-clients");
    expect(clients.podSelector.matchLabels).toEqual({ "strimzi.io/cluster": "kafka", "strimzi.io/kind": "Kafka", "strimzi.io/broker-role": "true" });
    expect(clients.ingress).toEqual([{ from: [appPeer], ports: [{ protocol: "TCP", port: 9093 }] }]);

    const nodes = policy("kafka-nodes");
    expect(nodes.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(nodes.ingress.map((r: any) => [r.from, ports(r)])).toEqual([
      [[{ podSelector: { matchLabels: { "strimzi.io/cluster": "kafka", "strimzi.io/kind": "Kafka" } } }], [9090, 9091]],
      [[{ podSelector: { matchLabels: { "strimzi.io/kind": "cluster-operator" } } }], [9090, 9091, 8443]],
      [[{ podSelector: { matchLabels: { "strimzi.io/name": "kafka-entity-operator" } } }, { podSelector: { matchLabels: { "strimzi.io/name": "kafka-kafka-exporter" } } }], [9091]],
      [[promPeer], [9404]],
    ]);
    expect(ports(nodes.egress[0])).toEqual([9090, 9091]);
    expect(ports(nodes.egress[1])).toEqual([443, 6443]);

    expect(policy("kafka-entity-operator").ingress).toEqual([{ from: [promPeer], ports: [8080, 8081].map((port) => ({ protocol: "TCP", port })) }]);
    expect(policy("kafka-exporter").ingress).toEqual([{ from: [promPeer], ports: [{ protocol: "TCP", port: 9404 }] }]);
    const operator = policy("strimzi-cluster-operator");
    expect(operator.ingress).toEqual([{ from: [promPeer], ports: [{ protocol: "TCP", port: 8080 }] }]);

    // Across every Kafka-related policy, the app is admitted on the listener port and nothing else.
    const kafkaPolicies = ["kafka-clients", "kafka-nodes", "kafka-entity-operator", "kafka-exporter", "strimzi-cluster-operator"].map(policy);
    const appPorts = kafkaPolicies.flatMap((p) => (p.ingress ?? []).filter((r: any) => JSON.stringify(r.from).includes('"web"')).flatMap(ports));
    expect(appPorts).toEqual([9093]);
  });

  it("installs Strimzi in the infra namespace watching only it, without CRDs or cluster-wide RBAC (the cluster stack's)", async () => {
    const plan = await cachedPlan(stack);
    const [release] = ofType(plan, "kubernetes:helm.sh/v3:Release").filter((r) => inputs(r).chart === charts.strimzi.chart);
    const c = inputs(release);
    expect(c).toMatchObject({ name: "strimzi-kafka-operator", namespace: infra, atomic: true, version: charts.strimzi.version, skipCrds: true });
    expect(c.values).toMatchObject({ watchNamespaces: [], watchAnyNamespace: false, createGlobalResources: false, generateNetworkPolicy: false });
    expect(c.values.extraEnvs).toContainEqual({ name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" });
    expect(JSON.stringify(c.values)).not.toMatch(/password|\[secret\]|offline-placeholder/i);
    expect(ofType(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")).toHaveLength(0);
    for (const r of byKind(plan, "Kafka").concat(byKind(plan, "KafkaNodePool"), byKind(plan, "KafkaTopic"), byKind(plan, "KafkaUser"))) {
      expect(r.dependsOn, r.urn).toContain(release.urn);
    }
  });

  it(`${expected[stack].protect ? "protects" : "does not protect"} the cluster, its pools and its topics, and always keeps the volumes`, async () => {
    const plan = await cachedPlan(stack);
    const stateful = byKind(plan, "Kafka").concat(byKind(plan, "KafkaNodePool"), byKind(plan, "KafkaTopic"));
    expect(stateful.length).toBe(1 + Object.keys(expected[stack].pools).length + spec.kafka.topics.length);
    for (const r of stateful) expect([r.protect, r.retainOnDelete], r.urn).toEqual([expected[stack].protect, expected[stack].protect]);
    const { spec: s } = await kafkaCr();
    if (expected[stack].protect) expect(s.kafka.config["delete.topic.enable"]).toBe(false);
    else expect(s.kafka.config).not.toHaveProperty("delete.topic.enable");
    for (const r of byKind(plan, "KafkaNodePool")) expect(inputs(r).spec.storage.volumes[0].deleteClaim).toBe(false);
  });
});

describe("node pools from the stack file", () => {
  const base = environmentSpecSchema.parse(environments.dev).kafka;
  const small = { storage: "20Gi", resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } } };

  it("combine the roles without dedicated controllers, and split them with", () => {
    expect(kafkaNodePools(base).map((p) => [p.name, p.replicas, p.roles])).toEqual([["combined", 3, ["controller", "broker"]]]);
    expect(kafkaNodePools({ ...base, brokers: 5, dedicatedControllers: 3 }).map((p) => [p.name, p.replicas, p.roles, p.storage])).toEqual([
      ["controllers", 3, ["controller"], base.storage],
      ["brokers", 5, ["broker"], base.storage],
    ]);
  });

  it("size dedicated controllers apart from the brokers when the stack says so", () => {
    const [controllers, brokers] = kafkaNodePools({ ...base, brokers: 5, dedicatedControllers: 3, controllers: small });
    expect([controllers.storage, controllers.resources]).toEqual([small.storage, small.resources]);
    expect([brokers.storage, brokers.resources]).toEqual([base.storage, base.resources]);
  });

  it("refuse controller sizes without dedicated controllers rather than ignore them", () => {
    expect(() => kafkaNodePools({ ...base, dedicatedControllers: 0, controllers: small })).toThrow(/kafka.dedicatedControllers is 0/);
  });

  it("size prod's controllers for metadata only", () => {
    const prod = environmentSpecSchema.parse(environments.prod).kafka;
    expect(prod.controllers).toBeDefined();
    expect(kafkaNodePools(prod)[0]).toMatchObject({ name: "controllers", storage: prod.controllers!.storage, resources: prod.controllers!.resources });
  });
});
