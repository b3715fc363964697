import { describe, expect, it } from "vitest";
import { backupsDailyWithRetention, encryptionAtRest, euDataResidency, isDailyOrMoreOften, kafkaReplication, redisAofPersistence } from "../../policy/controls/data";
import { ACCEPTANCE, evaluate, k8s, messages, PROD } from "./harness";

const INFRA = "diaspomoney-prod-infra";
const psmdb = (spec: object) => k8s("kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB", "mongodb", INFRA, { spec });
const goodBackup = {
  enabled: true,
  storages: { s3: { type: "s3", s3: { bucket: "b", region: "eu-west-3", credentialsSecret: "mongodb-backup-s3" } } },
  tasks: [{ name: "daily", enabled: true, schedule: "0 0 * * *", storageName: "s3", type: "logical", retention: { count: 30, type: "count", deleteFromStorage: true } }],
  pitr: { enabled: true },
};
const atlasCluster = (extra: object = {}) => ({
  type: "mongodbatlas:index/advancedCluster:AdvancedCluster",
  name: "atlas-cluster",
  inputs: { projectId: "project-id", name: "search", clusterType: "REPLICASET", backupEnabled: true, pitEnabled: true, encryptionAtRestProvider: "AWS", replicationSpecs: [{ regionConfigs: [{ providerName: "AWS", regionName: "EU_WEST_1", priority: 7 }] }], ...extra },
});
const atlasKey = (enabled: boolean, region = "EU_WEST_1") => ({ type: "mongodbatlas:index/encryptionAtRest:EncryptionAtRest", name: "atlas-encryption", inputs: { projectId: "project-id", awsKmsConfig: { enabled, customerMasterKeyId: "arn", region, roleId: "r" } } });
const atlasSchedule = (daily: object, extra: object = {}) => ({ type: "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule", name: "atlas-backup", inputs: { projectId: "project-id", clusterName: "search", policyItemDaily: daily, ...extra } });

describe("encryption-at-rest", () => {
  it("passes Percona with its key Secret and Atlas with an enabled customer key", async () => {
    const r = await evaluate(encryptionAtRest, [psmdb({ secrets: { encryptionKey: "mongodb-encryption-key" }, replsets: [] }), atlasCluster(), atlasKey(true)]);
    expect(r.status).toBe("pass");
  });

  it("fails encryption turned off in mongod's configuration, a cluster without provider, and a disabled key", async () => {
    const r = await evaluate(encryptionAtRest, [
      psmdb({ secrets: { encryptionKey: "k" }, replsets: [{ name: "rs0", configuration: "security:\n  enableEncryption: false\n" }] }),
      atlasCluster({ encryptionAtRestProvider: "NONE" }),
      atlasKey(false),
    ]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^PerconaServerMongoDB diaspomoney-prod-infra\/mongodb: spec\.replsets\[0\]\.configuration is "enableEncryption: false"; encryption at rest must not be disabled \[PCI-DSS 3\.5\.1/),
      expect.stringContaining('AdvancedCluster "atlas-cluster": encryptionAtRestProvider is "NONE"'),
      expect.stringContaining('EncryptionAtRest "atlas-encryption": awsKmsConfig.enabled is false'),
    ]);
  });

  it("requires an Atlas cluster where the stack runs Atlas", async () => {
    expect(messages(await evaluate(encryptionAtRest, [], PROD))).toEqual([expect.stringContaining("the stack runs Atlas but declares no Atlas cluster")]);
    expect((await evaluate(encryptionAtRest, [], ACCEPTANCE)).status).toBe("not-applicable");
  });
});

describe("backups-daily-with-retention", () => {
  it("recognises daily schedules", () => {
    expect(["0 0 * * *", "30 2 * * *", "0 */6 * * *", "@daily"].map(isDailyOrMoreOften)).toEqual([true, true, true, true]);
    expect(["0 0 * * 0", "0 0 1 * *", "weekly", undefined].map(isDailyOrMoreOften)).toEqual([false, false, false, false]);
  });

  it("passes daily Percona backups kept 30 days with PITR, and Atlas daily snapshots", async () => {
    const r = await evaluate(backupsDailyWithRetention, [psmdb({ backup: goodBackup }), atlasCluster(), atlasSchedule({ frequencyInterval: 1, retentionUnit: "days", retentionValue: 30 })]);
    expect(r.status).toBe("pass");
  });

  it("fails weekly backups, short retention, unknown storage, no PITR in production, and Atlas without schedule", async () => {
    const weekly = { ...goodBackup, tasks: [{ ...goodBackup.tasks[0], schedule: "0 0 * * 0", retention: { count: 2 }, storageName: "gcs" }], pitr: { enabled: false } };
    const r = await evaluate(backupsDailyWithRetention, [psmdb({ backup: weekly }), atlasCluster({ pitEnabled: false })]);
    expect(messages(r)).toEqual([
      expect.stringContaining("PerconaServerMongoDB diaspomoney-prod-infra/mongodb: spec.backup.tasks is"),
      expect.stringContaining('spec.backup.tasks[0].schedule is "0 0 * * 0"; the backup schedule must run at least daily'),
      expect.stringContaining("spec.backup.tasks[0].retention.count is 2; backups must be retained (at least 7)"),
      expect.stringContaining('spec.backup.tasks[0].storageName is "gcs"'),
      expect.stringContaining("spec.backup.pitr.enabled is false; production needs point-in-time recovery"),
      expect.stringContaining('AdvancedCluster "atlas-cluster": pitEnabled is false'),
      expect.stringContaining('AdvancedCluster "atlas-cluster": CloudBackupSchedule is (not set)'),
    ]);
  });

  it("does not require point-in-time recovery outside production", async () => {
    const r = await evaluate(backupsDailyWithRetention, [psmdb({ backup: { ...goodBackup, pitr: { enabled: false } } })], ACCEPTANCE);
    expect(r.status).toBe("pass");
  });
});

describe("kafka-replication", () => {
  const kafka = (config: object) => k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", INFRA, { spec: { kafka: { config } } });
  const topic = (name: string, replicas: number, config: object = {}) => k8s("kubernetes:kafka.strimzi.io/v1:KafkaTopic", name, INFRA, { spec: { partitions: 6, replicas, config } });
  const durable = {
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "offsets.topic.replication.factor": 3,
    "transaction.state.log.replication.factor": 3,
    "transaction.state.log.min.isr": 2,
    "unclean.leader.election.enable": false,
  };

  it("passes durable broker defaults and topics with 3 replicas", async () => {
    expect((await evaluate(kafkaReplication, [kafka(durable), topic("payments", 3, { "min.insync.replicas": 2 })])).status).toBe("pass");
  });

  it("fails min ISR 1, unclean election, and a topic with 1 replica", async () => {
    const r = await evaluate(kafkaReplication, [kafka({ ...durable, "min.insync.replicas": 1, "unclean.leader.election.enable": "true" }), topic("payments", 1)]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^Kafka diaspomoney-prod-infra\/kafka: spec\.kafka\.config\["min\.insync\.replicas"\] is 1; writes must be acknowledged by at least 2 in-sync replicas/),
      expect.stringContaining('spec.kafka.config["unclean.leader.election.enable"] is "true"'),
      expect.stringContaining("KafkaTopic diaspomoney-prod-infra/payments: spec.replicas is 1; every topic needs 3 replicas"),
    ]);
  });
});

describe("redis-aof-persistence", () => {
  const redis = (spec: object) => k8s("kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisCluster", "redis", INFRA, { spec });
  const config = (text: string) => k8s("kubernetes:core/v1:ConfigMap", "redis-config", INFRA, { data: { "redis-additional.conf": text } });
  const persistent = { persistenceEnabled: true, storage: { volumeClaimTemplate: { spec: {} } }, redisLeader: { redisConfig: { additionalRedisConfig: "redis-config" } } };

  it("passes AOF on a volume with everysec fsync", async () => {
    const r = await evaluate(redisAofPersistence, [redis(persistent), config("appendonly yes\nappendfsync everysec\n")]);
    expect(r.status).toBe("pass");
    expect(r.evidence.find((e) => e.property === "data")?.value).toBe('["appendonly yes","appendfsync everysec"]');
  });

  it("fails persistence off and a configuration that turns fsync off", async () => {
    const r = await evaluate(redisAofPersistence, [redis({ ...persistent, persistenceEnabled: false }), config("appendfsync no\n")]);
    expect(messages(r)).toEqual([
      expect.stringContaining("RedisCluster diaspomoney-prod-infra/redis: spec.persistenceEnabled is false; Redis must persist with AOF"),
      expect.stringContaining('ConfigMap diaspomoney-prod-infra/redis-config: data is ["appendfsync no"]'),
    ]);
  });
});

describe("eu-data-residency", () => {
  it("passes EU regions for Atlas, its key and copies, and the backup bucket", async () => {
    const r = await evaluate(euDataResidency, [atlasCluster(), atlasKey(true), atlasSchedule({}, { copySettings: [{ regionName: "EU_CENTRAL_1" }] }), psmdb({ backup: goodBackup })]);
    expect(r.status).toBe("pass");
  });

  it("fails London, Zurich and us-east-1", async () => {
    const r = await evaluate(euDataResidency, [
      atlasCluster({ replicationSpecs: [{ regionConfigs: [{ regionName: "EU_WEST_2" }] }] }),
      atlasKey(true, "EU_CENTRAL_2"),
      psmdb({ backup: { storages: { s3: { s3: { region: "us-east-1" } } } } }),
    ]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^AdvancedCluster "atlas-cluster": replicationSpecs\[0\]\.regionConfigs\[0\]\.regionName is "EU_WEST_2"; the region must be in the EU \[GDPR Art\. 44/),
      expect.stringContaining('awsKmsConfig.region is "EU_CENTRAL_2"'),
      expect.stringContaining('spec.backup.storages.s3.s3.region is "us-east-1"; backups must be stored in an EU region'),
    ]);
  });
});
