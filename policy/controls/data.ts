/**
 * Data controls: encryption at rest, daily backups with retention, Kafka durability, Redis AOF,
 * EU residency.
 */
import { resourceControl, stackControl, type Findings, type Subject, subjectOf, stackAnchor } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import { ATLAS_CLUSTER_TYPES, asArray, isObject, k8sName, namespaceOf, T } from "../lib/k8s";

/** EU member-state regions (AWS naming in Atlas). London (EU_WEST_2) and Zurich (EU_CENTRAL_2) are outside the EU. */
export const EU_ATLAS_REGIONS = new Set(["EU_WEST_1", "EU_WEST_3", "EU_CENTRAL_1", "EU_NORTH_1", "EU_SOUTH_1", "EU_SOUTH_2"]);
/** The same regions as AWS names them, for S3 backup storage. */
export const EU_AWS_REGIONS = new Set(["eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2"]);

const ATLAS_KEY_PROVIDERS = new Set(["AWS", "AZURE", "GCP"]);

function atlasKeyEnabled(e: Subject): boolean {
  const p = e.props ?? {};
  return [p.awsKmsConfig, p.azureKeyVaultConfig, p.googleCloudKmsConfig].some((c) => isObject(c) && c.enabled === true);
}

export const encryptionAtRest = stackControl({
  name: "encryption-at-rest",
  description:
    "Databases encrypt data at rest: Percona MongoDB with its encryption key Secret (never disabled in the mongod configuration); Atlas clusters with the customer-managed key (EncryptionAtRest enabled and the cluster's provider set).",
  severity: "critical",
  refs: [PCI.storedDataUnreadable, PCI.keysProtected, GDPR.encryption],
  remediation: "Set spec.secrets.encryptionKey on PerconaServerMongoDB; declare mongodbatlas.EncryptionAtRest with the KMS key enabled and encryptionAtRestProvider on the cluster.",
  settings: ["atlas"],
  check: (resources, f, settings) => {
    const all = resources.map(subjectOf);
    const psmdbs = all.filter((r) => r.type === T.psmdb);
    const clusters = all.filter((r) => ATLAS_CLUSTER_TYPES.includes(r.type));
    const keys = all.filter((r) => r.type === T.atlasEncryption);
    if (psmdbs.length === 0 && clusters.length === 0 && !settings.atlas) return { notApplicable: "the stack declares no database" };
    for (const db of psmdbs) {
      const secrets = db.props?.spec?.secrets ?? {};
      f.expect(typeof secrets.encryptionKey === "string" || typeof secrets.vault === "string", db, "spec.secrets.encryptionKey", secrets.encryptionKey, "MongoDB needs its encryption-at-rest key Secret (or Vault)");
      asArray(db.props?.spec?.replsets).forEach((rs: any, i: number) => {
        const conf = rs?.configuration;
        if (typeof conf === "string" && /enableEncryption:\s*false/.test(conf)) f.fail(db, `spec.replsets[${i}].configuration`, "enableEncryption: false", "encryption at rest must not be disabled");
      });
    }
    if (settings.atlas && clusters.length === 0) f.fail(stackAnchor(all), "Atlas cluster", undefined, "the stack runs Atlas but declares no Atlas cluster");
    for (const c of clusters) {
      const provider = c.props?.encryptionAtRestProvider;
      f.expect(ATLAS_KEY_PROVIDERS.has(provider), c, "encryptionAtRestProvider", provider, "the cluster must encrypt at rest with the customer-managed key (AWS, AZURE or GCP)");
      const key = keys.find((k) => k.props?.projectId === c.props?.projectId) ?? (keys.length === 1 ? keys[0] : undefined);
      f.expect(!!key && atlasKeyEnabled(key), key ?? c, key ? "awsKmsConfig.enabled" : "EncryptionAtRest", key?.props?.awsKmsConfig?.enabled, "the project needs an enabled EncryptionAtRest key configuration");
    }
  },
});

/** True for schedules that run at least once a day (`m h * * *`, `@daily`). */
export function isDailyOrMoreOften(cron: unknown): boolean {
  if (typeof cron !== "string") return false;
  if (["@daily", "@midnight", "@hourly"].includes(cron.trim())) return true;
  const f = cron.trim().split(/\s+/);
  return f.length === 5 && f[2] === "*" && f[3] === "*" && (f[4] === "*" || f[4] === "0-6");
}

const MIN_DAILY_BACKUPS = 7;

function retentionDays(value: unknown, unit: unknown): number {
  const n = Number(value);
  switch (String(unit)) {
    case "days":
      return n;
    case "weeks":
      return n * 7;
    case "months":
      return n * 30;
    case "years":
      return n * 365;
    default:
      return NaN;
  }
}

function checkPerconaBackups(db: Subject, f: Findings, production: boolean): void {
  const b = db.props?.spec?.backup ?? {};
  f.expect(b.enabled === true, db, "spec.backup.enabled", b.enabled, "backups must be enabled");
  const storages = Object.keys(b.storages ?? {});
  const tasks = asArray(b.tasks).filter((t: any) => t?.enabled === true);
  const daily = tasks.filter((t: any) => isDailyOrMoreOften(t?.schedule));
  if (daily.length === 0) f.fail(db, "spec.backup.tasks", b.tasks, "an enabled backup task must run at least daily");
  asArray(b.tasks).forEach((t: any, i: number) => {
    if (t?.enabled !== true) return;
    const at = `spec.backup.tasks[${i}]`;
    f.expect(isDailyOrMoreOften(t.schedule), db, `${at}.schedule`, t.schedule, "the backup schedule must run at least daily");
    const keep = t.retention?.count ?? t.keep;
    f.expect(typeof keep === "number" && keep >= MIN_DAILY_BACKUPS, db, `${at}.retention.count`, keep, `backups must be retained (at least ${MIN_DAILY_BACKUPS})`);
    f.expect(storages.includes(t.storageName), db, `${at}.storageName`, t.storageName, "the task must write to a declared storage");
  });
  if (production) f.expect(b.pitr?.enabled === true, db, "spec.backup.pitr.enabled", b.pitr?.enabled, "production needs point-in-time recovery");
}

export const backupsDailyWithRetention = stackControl({
  name: "backups-daily-with-retention",
  description:
    "Every database is backed up at least daily with a bounded retention (7 or more copies or days); in production, with point-in-time recovery. Covers Percona MongoDB and Atlas clusters.",
  severity: "high",
  refs: [PCI.incidentResponse, GDPR.restore, GDPR.resilience],
  remediation:
    "PerconaServerMongoDB: spec.backup.enabled, a task with a daily schedule, retention.count and a storage, pitr.enabled in production. Atlas: backupEnabled, a CloudBackupSchedule with policyItemDaily, pitEnabled in production.",
  settings: ["production", "atlas"],
  check: (resources, f, settings) => {
    const all = resources.map(subjectOf);
    const psmdbs = all.filter((r) => r.type === T.psmdb);
    const clusters = all.filter((r) => ATLAS_CLUSTER_TYPES.includes(r.type));
    const schedules = all.filter((r) => r.type === T.atlasBackupSchedule);
    if (psmdbs.length === 0 && clusters.length === 0) return { notApplicable: "the stack declares no database" };
    for (const db of psmdbs) checkPerconaBackups(db, f, settings.production);
    for (const c of clusters) {
      const enabled = c.type === T.atlasAdvancedCluster ? c.props?.backupEnabled : (c.props?.cloudBackup ?? c.props?.backupEnabled);
      f.expect(enabled === true, c, c.type === T.atlasAdvancedCluster ? "backupEnabled" : "cloudBackup", enabled, "cloud backups must be enabled");
      if (settings.production) f.expect(c.props?.pitEnabled === true, c, "pitEnabled", c.props?.pitEnabled, "production needs point-in-time recovery");
      const clusterName = c.props?.name ?? c.name;
      const schedule = schedules.find((s) => s.props?.clusterName === clusterName) ?? (schedules.length === 1 ? schedules[0] : undefined);
      if (!schedule) {
        f.fail(c, "CloudBackupSchedule", undefined, "the cluster needs a backup schedule with a daily policy");
        continue;
      }
      const daily = schedule.props?.policyItemDaily;
      const days = retentionDays(daily?.retentionValue, daily?.retentionUnit);
      f.expect(isObject(daily) && Number(daily.frequencyInterval) === 1 && days >= MIN_DAILY_BACKUPS, schedule, "policyItemDaily", daily, `a daily snapshot kept at least ${MIN_DAILY_BACKUPS} days is required`);
    }
  },
});

/** Kafka settings as numbers, whatever type the program wrote them in. */
function num(v: unknown): number {
  return typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
}

const BROKER_DURABILITY: { key: string; ok: (v: number) => boolean; requirement: string }[] = [
  { key: "default.replication.factor", ok: (v) => v >= 3, requirement: "topics must default to 3 replicas" },
  { key: "min.insync.replicas", ok: (v) => v >= 2, requirement: "writes must be acknowledged by at least 2 in-sync replicas" },
  { key: "offsets.topic.replication.factor", ok: (v) => v >= 3, requirement: "consumer offsets need 3 replicas" },
  { key: "transaction.state.log.replication.factor", ok: (v) => v >= 3, requirement: "the transaction log needs 3 replicas" },
  { key: "transaction.state.log.min.isr", ok: (v) => v >= 2, requirement: "the transaction log needs min ISR 2" },
];

export const kafkaReplication = resourceControl({
  name: "kafka-replication",
  description:
    "Kafka does not lose acknowledged events: replication factor 3 and min.insync.replicas 2 for the brokers' defaults, internal topics and every topic; unclean leader election off.",
  severity: "high",
  refs: [GDPR.resilience, GDPR.integrity, PCI.configStandards],
  remediation: "In spec.kafka.config set default.replication.factor 3, min.insync.replicas 2, offsets.topic.replication.factor 3, transaction.state.log.replication.factor 3, transaction.state.log.min.isr 2, unclean.leader.election.enable false; KafkaTopic replicas 3.",
  appliesTo: [T.kafka, T.kafkaTopic],
  check: (s, f) => {
    if (s.type === T.kafka) {
      const config = s.props?.spec?.kafka?.config ?? {};
      for (const d of BROKER_DURABILITY) f.expect(d.ok(num(config[d.key])), s, `spec.kafka.config["${d.key}"]`, config[d.key], d.requirement);
      const unclean = config["unclean.leader.election.enable"];
      f.expect(unclean === undefined || unclean === false || unclean === "false", s, 'spec.kafka.config["unclean.leader.election.enable"]', unclean, "unclean leader election must stay off");
      return;
    }
    const spec = s.props?.spec ?? {};
    const replicas = num(spec.replicas);
    f.expect(replicas >= 3, s, "spec.replicas", spec.replicas, "every topic needs 3 replicas");
    const minIsr = spec.config?.["min.insync.replicas"];
    if (minIsr !== undefined) f.expect(num(minIsr) >= 2 && num(minIsr) < replicas, s, 'spec.config["min.insync.replicas"]', minIsr, "a topic's min ISR must be at least 2 and below its replicas");
  },
});

export const redisAofPersistence = stackControl({
  name: "redis-aof-persistence",
  description: "Redis persists with the append-only file on a persistent volume (the operator's persistenceEnabled), and no configuration turns AOF or fsync off.",
  severity: "medium",
  refs: [GDPR.resilience, GDPR.restore],
  remediation: "Set persistenceEnabled: true and storage.volumeClaimTemplate on RedisCluster; keep appendonly yes and appendfsync everysec in any additional Redis configuration.",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const clusters = all.filter((r) => r.type === T.redisCluster);
    if (clusters.length === 0) return { notApplicable: "the stack declares no Redis" };
    for (const c of clusters) {
      const spec = c.props?.spec ?? {};
      f.expect(spec.persistenceEnabled === true, c, "spec.persistenceEnabled", spec.persistenceEnabled, "Redis must persist with AOF (persistenceEnabled adds appendonly yes)");
      f.expect(isObject(spec.storage?.volumeClaimTemplate), c, "spec.storage.volumeClaimTemplate", spec.storage?.volumeClaimTemplate ? "(declared)" : undefined, "the AOF must live on a persistent volume");
      const refs = new Set(
        [spec.redisConfig, spec.redisLeader?.redisConfig, spec.redisFollower?.redisConfig].map((r: any) => r?.additionalRedisConfig).filter((x): x is string => typeof x === "string"),
      );
      for (const name of refs) {
        const cm = all.find((r) => r.type === T.configMap && k8sName(r) === name && namespaceOf(r) === namespaceOf(c));
        const text = Object.values(cm?.props?.data ?? {}).join("\n");
        const off = /^\s*appendonly\s+no\b/m.test(text) || /^\s*appendfsync\s+no\b/m.test(text);
        f.expect(!off, cm ?? c, cm ? "data" : `additionalRedisConfig ${name}`, cm ? (text.match(/^\s*append\S+\s+\S+/gm) ?? []).map((l) => l.trim()) : "(ConfigMap not declared by this stack)", "the additional Redis configuration must not turn AOF or its fsync off");
      }
    }
  },
});

export const euDataResidency = resourceControl({
  name: "eu-data-residency",
  description: "Personal data stays in EU regions: Atlas clusters, their encryption keys and backup copies, and MongoDB backup buckets.",
  severity: "critical",
  refs: [GDPR.transfers, GDPR.byDesign],
  remediation: "Use EU regions only (Atlas EU_WEST_1, EU_WEST_3, EU_CENTRAL_1, EU_NORTH_1, EU_SOUTH_1, EU_SOUTH_2; S3 eu-west-1, eu-west-3, ...).",
  appliesTo: [T.atlasAdvancedCluster, T.atlasCluster, T.atlasEncryption, T.atlasBackupSchedule, T.psmdb],
  check: (s, f) => {
    const p = s.props ?? {};
    const atlasRegion = (path: string, v: unknown) => f.expect(EU_ATLAS_REGIONS.has(String(v)), s, path, v, "the region must be in the EU");
    switch (s.type) {
      case T.atlasAdvancedCluster:
        asArray(p.replicationSpecs).forEach((spec: any, i: number) =>
          asArray(spec?.regionConfigs).forEach((rc: any, j: number) => atlasRegion(`replicationSpecs[${i}].regionConfigs[${j}].regionName`, rc?.regionName)),
        );
        if (asArray(p.replicationSpecs).length === 0) f.fail(s, "replicationSpecs", p.replicationSpecs, "the cluster must declare its regions");
        return;
      case T.atlasCluster:
        if (p.providerRegionName !== undefined) atlasRegion("providerRegionName", p.providerRegionName);
        asArray(p.replicationSpecs).forEach((spec: any, i: number) =>
          asArray(spec?.regionsConfigs).forEach((rc: any, j: number) => atlasRegion(`replicationSpecs[${i}].regionsConfigs[${j}].regionName`, rc?.regionName)),
        );
        return;
      case T.atlasEncryption:
        if (isObject(p.awsKmsConfig)) atlasRegion("awsKmsConfig.region", p.awsKmsConfig.region);
        else f.pass(s, "awsKmsConfig", "(not AWS)");
        return;
      case T.atlasBackupSchedule:
        asArray(p.copySettings).forEach((c: any, i: number) => atlasRegion(`copySettings[${i}].regionName`, c?.regionName));
        if (asArray(p.copySettings).length === 0) f.pass(s, "copySettings", "(no copies)");
        return;
      case T.psmdb: {
        const storages = Object.entries(p.spec?.backup?.storages ?? {});
        for (const [name, st] of storages) {
          const s3 = (st as any)?.s3;
          if (!s3) continue;
          f.expect(EU_AWS_REGIONS.has(String(s3.region)), s, `spec.backup.storages.${name}.s3.region`, s3.region, "backups must be stored in an EU region");
        }
        if (storages.length === 0) f.pass(s, "spec.backup.storages", "(none)");
        return;
      }
    }
  },
});

export const dataControls = [encryptionAtRest, backupsDailyWithRetention, kafkaReplication, redisAofPersistence, euDataResidency];
