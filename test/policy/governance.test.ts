import { describe, expect, it } from "vitest";
import { auditLogging, namespacePodSecurityLabels, statefulResourcesProtected } from "../../policy/controls/governance";
import { complianceOutputConsistent } from "../../policy/controls/posture";
import { ACCEPTANCE, DEV, evaluate, k8s, messages, PROD } from "./harness";

const INFRA = "diaspomoney-prod-infra";
const guarded = { protect: true, retainOnDelete: true };

describe("stateful-resources-protected", () => {
  const psmdb = (finalizers: string[] = []) => k8s("kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB", "mongodb", INFRA, { metadata: { finalizers }, spec: {} }, guarded);
  const pool = (deleteClaim: boolean, opts = guarded) => k8s("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "brokers", INFRA, { spec: { storage: { type: "jbod", volumes: [{ id: 0, type: "persistent-claim", size: "200Gi", deleteClaim }] } } }, opts);
  const ns = (protect: boolean) => k8s("kubernetes:core/v1:Namespace", INFRA, undefined, {}, { protect });

  it("passes protected data with its operator guards and the protected namespace holding it", async () => {
    const atlas = { type: "mongodbatlas:index/advancedCluster:AdvancedCluster", name: "atlas-cluster", inputs: { terminationProtectionEnabled: true }, ...guarded };
    const r = await evaluate(statefulResourcesProtected, [psmdb(), pool(false), atlas, ns(true)], PROD);
    expect(r.status).toBe("pass");
    expect(r.evidence.map((e) => e.property)).toEqual(expect.arrayContaining(["opts.protect", "opts.retainOnDelete", "metadata.finalizers", "spec.storage.deleteClaim", "terminationProtectionEnabled"]));
  });

  it("fails unprotected data, a deleting finalizer, deleteClaim, and an unprotected namespace holding data", async () => {
    const r = await evaluate(statefulResourcesProtected, [psmdb(["percona.com/delete-psmdb-pvc"]), pool(true, { protect: false, retainOnDelete: false }), ns(false)], PROD);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^KafkaNodePool diaspomoney-prod-infra\/brokers: opts\.protect is false; production stateful resources must be protected \(protect: true\) \[GDPR Art\. 32\(1\)\(b\)/),
      expect.stringContaining("Namespace diaspomoney-prod-infra: opts.protect is false"),
      expect.stringContaining('PerconaServerMongoDB diaspomoney-prod-infra/mongodb: metadata.finalizers is ["percona.com/delete-psmdb-pvc"]'),
      expect.stringContaining("KafkaNodePool diaspomoney-prod-infra/brokers: opts.retainOnDelete is false"),
      expect.stringContaining("KafkaNodePool diaspomoney-prod-infra/brokers: spec.storage.deleteClaim is [true]"),
    ]);
  });

  it("is a production rule", async () => {
    expect(await evaluate(statefulResourcesProtected, [pool(true, { protect: false, retainOnDelete: false })], ACCEPTANCE)).toMatchObject({ status: "not-applicable", reason: "protection is a production rule" });
  });
});

describe("namespace-pod-security-labels", () => {
  const ns = (labels: Record<string, string>) => k8s("kubernetes:core/v1:Namespace", "diaspomoney-prod", undefined, { metadata: { labels } });
  const pss = (enforce: string, version = "v1.33") => ({
    "pod-security.kubernetes.io/enforce": enforce,
    "pod-security.kubernetes.io/enforce-version": version,
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
  });

  it("passes restricted or baseline enforcement pinned to a version", async () => {
    expect((await evaluate(namespacePodSecurityLabels, [ns(pss("restricted"))])).status).toBe("pass");
    expect((await evaluate(namespacePodSecurityLabels, [ns(pss("baseline"))])).status).toBe("pass");
  });

  it("fails privileged enforcement, a floating version and missing warn/audit", async () => {
    const r = await evaluate(namespacePodSecurityLabels, [ns({ "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/enforce-version": "latest" })]);
    expect(messages(r)).toEqual([
      expect.stringContaining('Namespace diaspomoney-prod: metadata.labels["pod-security.kubernetes.io/enforce"] is "privileged"; Pod Security must be enforced at baseline or restricted'),
      expect.stringContaining('enforce-version"] is "latest"'),
      expect.stringContaining('metadata.labels["pod-security.kubernetes.io/warn"] is (not set)'),
      expect.stringContaining('metadata.labels["pod-security.kubernetes.io/audit"] is (not set)'),
    ]);
  });
});

describe("audit-logging", () => {
  const kafka = k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", INFRA, { spec: {} });
  const topic = (config: object) => k8s("kubernetes:kafka.strimzi.io/v1:KafkaTopic", "audit-log", INFRA, { spec: { replicas: 3, partitions: 3, config } });
  const project = { type: "mongodbatlas:index/project:Project", name: "atlas-project", inputs: { name: "diaspomoney-prod", orgId: "o" } };
  const auditing = (enabled: boolean) => ({ type: "mongodbatlas:index/auditing:Auditing", name: "atlas-auditing", inputs: { projectId: "p", enabled } });

  it("passes Atlas auditing on and an audit topic kept 365 days", async () => {
    const r = await evaluate(auditLogging, [kafka, topic({ "retention.ms": 365 * 86_400_000, "cleanup.policy": "delete" }), project, auditing(true)], PROD);
    expect(r.status).toBe("pass");
  });

  it("fails 30-day, infinite or compacted audit retention and Atlas without auditing", async () => {
    const short = await evaluate(auditLogging, [kafka, topic({ "retention.ms": 30 * 86_400_000, "cleanup.policy": "compact" }), project], PROD);
    expect(messages(short)).toEqual([
      expect.stringContaining('Project "atlas-project": Auditing is (not set); Atlas database auditing must be declared'),
      expect.stringMatching(/^KafkaTopic diaspomoney-prod-infra\/audit-log: spec\.config\["retention\.ms"\] is 2592000000; audit events must be kept at least 365 days .*\[PCI-DSS 10\.2\.1, PCI-DSS 10\.5\.1/),
      expect.stringContaining('spec.config["cleanup.policy"] is "compact"'),
    ]);
    const infinite = await evaluate(auditLogging, [kafka, topic({ "retention.ms": -1 })], DEV);
    expect(infinite.status).toBe("fail");
  });

  it("requires an audit topic wherever Kafka runs", async () => {
    expect(messages(await evaluate(auditLogging, [kafka], DEV))).toEqual([expect.stringContaining("Kafka diaspomoney-prod-infra/kafka: KafkaTopic audit-log is (not set); an audit-log topic must exist")]);
  });
});

describe("compliance-output-consistent", () => {
  const tls = k8s("kubernetes:traefik.io/v1alpha1:TLSOption", "default", "diaspomoney-prod", { spec: { minVersion: "VersionTLS13" } });
  const topic = k8s("kubernetes:kafka.strimzi.io/v1:KafkaTopic", "audit-log", INFRA, { spec: { replicas: 3, config: { "retention.ms": 365 * 86_400_000 } } });
  const kafka = k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", INFRA, { spec: { kafka: { config: { "min.insync.replicas": 2 } } } });
  const outputs = (claims: object) => ({ compliance: { tls: { traefikMinVersion: "VersionTLS13" }, kafka: { replicationFactor: 3, minInSyncReplicas: 2, auditLogRetentionDays: 365 }, ...claims } });

  it("passes when every claim is what the resources say", async () => {
    const r = await evaluate(complianceOutputConsistent, [tls, kafka, topic], PROD, outputs({}));
    expect(r.status).toBe("pass");
    expect(r.evidence.map((e) => e.property)).toEqual(["spec.minVersion", 'spec.kafka.config["min.insync.replicas"]', "spec.replicas", 'spec.config["retention.ms"]']);
  });

  it("fails a claim the resources contradict, and a claim nothing supports", async () => {
    const r = await evaluate(complianceOutputConsistent, [tls, kafka, topic], PROD, outputs({ tls: { traefikMinVersion: "VersionTLS12", cloudflareMinVersion: "1.3" } }));
    expect(messages(r)).toEqual([
      expect.stringContaining('TLSOption diaspomoney-prod/default: spec.minVersion is "VersionTLS13"; the compliance output claims tls.traefikMinVersion = "VersionTLS12"'),
      expect.stringContaining('outputs.compliance.tls.cloudflareMinVersion is "1.3"; the output claims something no resource of the stack shows'),
    ]);
  });

  it("does not apply without a compliance output", async () => {
    expect((await evaluate(complianceOutputConsistent, [tls], PROD, {})).status).toBe("not-applicable");
  });
});
