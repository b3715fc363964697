/**
 * The stack's declared posture (its `compliance` output) against what it deploys: auditors read the
 * output, so every claim in it must be true of the resources.
 */
import { stackControl, subjectOf, type Findings, type Subject } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import { ATLAS_CLUSTER_TYPES, asArray, get, k8sName, T } from "../lib/k8s";

const DAY_MS = 24 * 3600 * 1000;

function atLeast(order: string[], value: unknown, floor: unknown): boolean {
  return order.indexOf(String(value)) >= 0 && order.indexOf(String(value)) >= order.indexOf(String(floor));
}

function claimCheck(f: Findings, stack: Subject, claimPath: string, claim: unknown, found: { s: Subject; property: string; value: unknown }[], ok: (v: unknown) => boolean): void {
  if (claim === null || claim === undefined) return;
  if (found.length === 0) {
    f.fail(stack, `outputs.compliance.${claimPath}`, claim, "the output claims something no resource of the stack shows");
    return;
  }
  for (const x of found) f.expect(ok(x.value), x.s, x.property, x.value, `the compliance output claims ${claimPath} = ${JSON.stringify(claim)}`);
}

export const complianceOutputConsistent = stackControl({
  name: "compliance-output-consistent",
  description:
    "Every claim of the stack's compliance output (TLS floors, backup schedule and retention, Kafka durability, audit retention, regions, protection) is true of the resources the stack deploys.",
  severity: "medium",
  refs: [GDPR.accountability, PCI.configStandards],
  remediation: "Derive the claim and the resource from the same spec value (infra/compliance/output.ts and the area that deploys the resource).",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const stack = all.find((r) => r.type === T.stack);
    const c = stack?.props?.compliance;
    if (!stack || !c || typeof c !== "object") return { notApplicable: "the stack has no compliance output" };
    const of = (type: string) => all.filter((r) => r.type === type);

    claimCheck(f, stack, "tls.traefikMinVersion", c.tls?.traefikMinVersion,
      of(T.tlsOption).filter((o) => k8sName(o) === "default").map((s) => ({ s, property: "spec.minVersion", value: s.props?.spec?.minVersion })),
      (v) => v === c.tls.traefikMinVersion);
    claimCheck(f, stack, "tls.cloudflareMinVersion", c.tls?.cloudflareMinVersion,
      of(T.cloudflareZoneSetting).filter((z) => z.props?.settingId === "min_tls_version").map((s) => ({ s, property: "value (min_tls_version)", value: s.props?.value })),
      (v) => v === c.tls.cloudflareMinVersion);
    const clusters = all.filter((r) => ATLAS_CLUSTER_TYPES.includes(r.type));
    claimCheck(f, stack, "tls.atlasMinVersion", c.tls?.atlasMinVersion,
      clusters.map((s) => ({ s, property: "advancedConfiguration.minimumEnabledTlsProtocol", value: s.props?.advancedConfiguration?.minimumEnabledTlsProtocol })),
      (v) => atLeast(["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"], v, c.tls.atlasMinVersion));
    claimCheck(f, stack, "dataResidency.atlasRegion", c.dataResidency?.atlasRegion,
      clusters.map((s) => ({ s, property: "replicationSpecs[0].regionConfigs[0].regionName", value: get(s.props, "replicationSpecs[0].regionConfigs[0].regionName") ?? s.props?.providerRegionName })),
      (v) => v === c.dataResidency.atlasRegion);

    const mongo = c.backups?.mongodb;
    const psmdbs = of(T.psmdb);
    if (mongo) {
      const tasks = psmdbs.flatMap((s) => asArray(s.props?.spec?.backup?.tasks).map((t: any, i: number) => ({ s, i, t })).filter((x) => x.t?.enabled === true));
      claimCheck(f, stack, "backups.mongodb.schedule", mongo.schedule, tasks.map(({ s, i, t }) => ({ s, property: `spec.backup.tasks[${i}].schedule`, value: t.schedule })), (v) => v === mongo.schedule);
      claimCheck(f, stack, "backups.mongodb.keep", mongo.keep, tasks.map(({ s, i, t }) => ({ s, property: `spec.backup.tasks[${i}].retention.count`, value: t.retention?.count ?? t.keep })), (v) => v === mongo.keep);
      claimCheck(f, stack, "backups.mongodb.pointInTimeRecovery", mongo.pointInTimeRecovery, psmdbs.map((s) => ({ s, property: "spec.backup.pitr.enabled", value: s.props?.spec?.backup?.pitr?.enabled === true })), (v) => v === mongo.pointInTimeRecovery);
      const regions = psmdbs.flatMap((s) => Object.entries(s.props?.spec?.backup?.storages ?? {}).filter(([, st]) => (st as any)?.s3).map(([name, st]) => ({ s, property: `spec.backup.storages.${name}.s3.region`, value: (st as any).s3.region })));
      claimCheck(f, stack, "backups.mongodb.storageRegion", mongo.storageRegion, regions, (v) => v === mongo.storageRegion);
    }
    const atlas = c.backups?.atlas;
    if (atlas) {
      claimCheck(f, stack, "backups.atlas.keepDays", atlas.keepDays,
        of(T.atlasBackupSchedule).map((s) => ({ s, property: "policyItemDaily.retentionValue", value: s.props?.policyItemDaily?.retentionUnit === "days" ? s.props.policyItemDaily.retentionValue : undefined })),
        (v) => v === atlas.keepDays);
      claimCheck(f, stack, "backups.atlas.pointInTimeRecovery", atlas.pointInTimeRecovery, clusters.map((s) => ({ s, property: "pitEnabled", value: s.props?.pitEnabled === true })), (v) => v === atlas.pointInTimeRecovery);
    }

    const kafkaClaim = c.kafka;
    if (kafkaClaim) {
      const brokers = of(T.kafka);
      claimCheck(f, stack, "kafka.minInSyncReplicas", kafkaClaim.minInSyncReplicas,
        brokers.map((s) => ({ s, property: 'spec.kafka.config["min.insync.replicas"]', value: s.props?.spec?.kafka?.config?.["min.insync.replicas"] })),
        (v) => Number(v) >= kafkaClaim.minInSyncReplicas);
      claimCheck(f, stack, "kafka.replicationFactor", kafkaClaim.replicationFactor,
        of(T.kafkaTopic).map((s) => ({ s, property: "spec.replicas", value: s.props?.spec?.replicas })),
        (v) => Number(v) >= kafkaClaim.replicationFactor);
      claimCheck(f, stack, "kafka.auditLogRetentionDays", kafkaClaim.auditLogRetentionDays,
        of(T.kafkaTopic).filter((t) => /audit/.test(String(t.props?.spec?.topicName ?? k8sName(t)))).map((s) => ({ s, property: 'spec.config["retention.ms"]', value: s.props?.spec?.config?.["retention.ms"] })),
        (v) => Math.floor(Number(v) / DAY_MS) === kafkaClaim.auditLogRetentionDays);
    }

    if (c.protections?.statefulResources === true)
      claimCheck(f, stack, "protections.statefulResources", true,
        [...psmdbs, ...of(T.kafka), ...of(T.kafkaNodePool), ...of(T.redisCluster), ...clusters].map((s) => ({ s, property: "opts.protect", value: s.opts?.protect })),
        (v) => v === true);
  },
});

export const postureControls = [complianceOutputConsistent];
