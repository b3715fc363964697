/**
 * Governance controls: protection of stateful resources in production, namespace Pod Security labels,
 * audit logging and its retention.
 */
import { resourceControl, stackAnchor, stackControl, subjectOf, type Findings, type Subject } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import { ATLAS_CLUSTER_TYPES, asArray, get, k8sName, namespaceOf, T } from "../lib/k8s";

/** Resources that hold data: protected and kept on delete in production. */
const DATA_TYPES: string[] = [T.psmdb, T.kafka, T.kafkaNodePool, T.redisCluster, T.pvc, ...ATLAS_CLUSTER_TYPES];
/** Resources that define data or the way in, whose deletion loses data or service: protected in production. */
const DEFINITION_TYPES: string[] = [T.kafkaTopic, T.cloudflareZoneSetting, T.cloudflareZone];

function holdsData(s: Subject): boolean {
  return DATA_TYPES.includes(s.type) || (s.type === T.statefulSet && asArray(s.props?.spec?.volumeClaimTemplates).length > 0);
}

/** Percona finalizers that delete volumes or point-in-time chunks with the resource. */
const DESTRUCTIVE_FINALIZERS = ["percona.com/delete-psmdb-pvc", "percona.com/delete-pvc", "percona.com/delete-pitr-chunks"];

function operatorGuards(s: Subject, f: Findings): void {
  const p = s.props ?? {};
  switch (s.type) {
    case T.atlasAdvancedCluster:
    case T.atlasCluster:
      f.expect(p.terminationProtectionEnabled === true, s, "terminationProtectionEnabled", p.terminationProtectionEnabled, "the Atlas cluster needs termination protection");
      break;
    case T.psmdb: {
      const bad = asArray<string>(p.metadata?.finalizers).filter((x) => DESTRUCTIVE_FINALIZERS.includes(x));
      f.expect(bad.length === 0, s, "metadata.finalizers", p.metadata?.finalizers ?? [], "finalizers that delete volumes or backups must not be set in production");
      break;
    }
    case T.kafkaNodePool: {
      const st = p.spec?.storage ?? {};
      const deleting = [st, ...asArray(st.volumes)].some((v: any) => v?.deleteClaim === true);
      f.expect(!deleting, s, "spec.storage.deleteClaim", st.deleteClaim ?? asArray(st.volumes).map((v: any) => v?.deleteClaim), "Kafka volumes must be kept when the pool is deleted (deleteClaim: false)");
      break;
    }
    case T.statefulSet:
    case T.redisCluster: {
      const path = s.type === T.statefulSet ? "spec.persistentVolumeClaimRetentionPolicy.whenDeleted" : "spec.kubernetesConfig.persistentVolumeClaimRetentionPolicy.whenDeleted";
      const v = get(p, path);
      f.expect(v !== "Delete", s, path, v ?? "Retain (default)", "volumes must be retained when the workload is deleted");
      break;
    }
  }
}

export const statefulResourcesProtected = stackControl({
  name: "stateful-resources-protected",
  description:
    "In production, what holds data (databases, brokers, volumes, the Atlas cluster) is protected and kept on delete with its operator's delete guards on; what defines it (topics, the Cloudflare zone settings, namespaces that contain data) is protected.",
  severity: "critical",
  refs: [GDPR.resilience, GDPR.restore, PCI.changeControl],
  remediation:
    "Pass ctx.stateful (protect, retainOnDelete) to the resource, protect: true on namespaces holding data; Atlas terminationProtectionEnabled: true; Strimzi deleteClaim: false; no Percona delete-psmdb-pvc/delete-pitr-chunks finalizers; PVC retention Retain.",
  settings: ["production"],
  check: (resources, f, settings) => {
    if (!settings.production) return { notApplicable: "protection is a production rule" };
    const all = resources.map(subjectOf);
    const data = all.filter(holdsData);
    const dataNamespaces = new Set(data.map(namespaceOf).filter((n): n is string => !!n));
    const definitions = all.filter((r) => DEFINITION_TYPES.includes(r.type) || (r.type === T.namespace && dataNamespaces.has(k8sName(r))));
    if (data.length === 0 && definitions.length === 0) return { notApplicable: "the stack holds no state" };
    for (const s of [...data, ...definitions]) f.expect(s.opts?.protect === true, s, "opts.protect", s.opts?.protect ?? false, "production stateful resources must be protected (protect: true)");
    for (const s of data) {
      // retainOnDelete is recorded by the offline plan; CrossGuard's options do not carry it.
      if (s.opts?.retainOnDelete !== undefined) f.expect(s.opts.retainOnDelete === true, s, "opts.retainOnDelete", s.opts.retainOnDelete, "production data must be kept on delete (retainOnDelete: true)");
      operatorGuards(s, f);
    }
  },
});

const PSS_LEVELS = ["privileged", "baseline", "restricted"];

export const namespacePodSecurityLabels = resourceControl({
  name: "namespace-pod-security-labels",
  description:
    "Every namespace enforces Pod Security admission at baseline or restricted with a pinned version, and warns and audits at restricted, so that the cluster itself rejects unsafe pods.",
  severity: "high",
  refs: [PCI.securityParameters, PCI.configStandards, GDPR.byDesign],
  remediation: "Label the namespace pod-security.kubernetes.io/enforce (restricted, or baseline with a reason), enforce-version pinned, warn=restricted and audit=restricted.",
  appliesTo: [T.namespace],
  check: (s, f) => {
    const l = s.props?.metadata?.labels ?? {};
    const at = (k: string) => `metadata.labels["pod-security.kubernetes.io/${k}"]`;
    const enforce = l["pod-security.kubernetes.io/enforce"];
    f.expect(PSS_LEVELS.indexOf(enforce) >= 1, s, at("enforce"), enforce, "Pod Security must be enforced at baseline or restricted");
    const version = l["pod-security.kubernetes.io/enforce-version"];
    f.expect(typeof version === "string" && /^v\d+\.\d+$/.test(version), s, at("enforce-version"), version, "the enforced Pod Security version must be pinned (not latest)");
    for (const mode of ["warn", "audit"]) f.expect(l[`pod-security.kubernetes.io/${mode}`] === "restricted", s, at(mode), l[`pod-security.kubernetes.io/${mode}`], `Pod Security ${mode} must be restricted`);
  },
});

const YEAR_MS = 365 * 24 * 3600 * 1000;

function topicName(s: Subject): string {
  return String(s.props?.spec?.topicName ?? k8sName(s));
}

export const auditLogging = stackControl({
  name: "audit-logging",
  description:
    "Audit trails exist and are kept 12 months: Atlas database auditing is on; the Kafka audit-log topic retains at least 365 days (bounded, delete policy).",
  severity: "high",
  refs: [PCI.auditLogs, PCI.auditRetention, GDPR.accountability, GDPR.breachDetection, GDPR.storageLimitation],
  remediation: "Declare mongodbatlas.Auditing {enabled: true} for the project; a KafkaTopic named audit-log with retention.ms >= 31536000000 and cleanup.policy delete.",
  settings: ["atlas"],
  check: (resources, f, settings) => {
    const all = resources.map(subjectOf);
    const kafkas = all.filter((r) => r.type === T.kafka);
    const projects = all.filter((r) => r.type === T.atlasProject);
    if (kafkas.length === 0 && projects.length === 0 && !settings.atlas) return { notApplicable: "the stack runs neither Kafka nor Atlas" };
    const auditing = all.filter((r) => r.type === T.atlasAuditing);
    if (settings.atlas || projects.length > 0) {
      if (auditing.length === 0) f.fail(projects[0] ?? stackAnchor(all), "Auditing", undefined, "Atlas database auditing must be declared for the project");
      for (const a of auditing) f.expect(a.props?.enabled === true, a, "enabled", a.props?.enabled, "Atlas auditing must be enabled");
    }
    if (kafkas.length > 0) {
      const topics = all.filter((r) => r.type === T.kafkaTopic && /audit/i.test(topicName(r)));
      if (topics.length === 0) f.fail(kafkas[0], "KafkaTopic audit-log", undefined, "an audit-log topic must exist");
      for (const t of topics) {
        const config = t.props?.spec?.config ?? {};
        const ms = Number(config["retention.ms"]);
        f.expect(ms >= YEAR_MS, t, 'spec.config["retention.ms"]', config["retention.ms"], "audit events must be kept at least 365 days (a bounded retention: -1 keeps personal data forever)");
        const policy = config["cleanup.policy"];
        f.expect(policy === undefined || String(policy).split(",").includes("delete") && !String(policy).includes("compact"), t, 'spec.config["cleanup.policy"]', policy ?? "delete (default)", "audit events must not be compacted away");
      }
    }
  },
});

export const governanceControls = [statefulResourcesProtected, namespacePodSecurityLabels, auditLogging];
