import { describe, expect, it } from "vitest";
import { environments } from "../../stacks";
import { charts, crVersions, images } from "../../infra/versions";
import { cachedPlan, inputs, k8sObject, ofType, STACKS } from "../harness";

const expected = {
  dev: { members: 1, unsafe: true, keep: 7, pitr: false },
  rct: { members: 1, unsafe: true, keep: 14, pitr: false },
  prod: { members: 3, unsafe: false, keep: 30, pitr: true },
} as const;

describe.each(STACKS)("MongoDB in %s", (stack) => {
  const infra = `diaspomoney-${stack}-infra`;
  const cr = async () => inputs(k8sObject(await cachedPlan(stack), "PerconaServerMongoDB", "mongodb", infra));

  it(`runs ${expected[stack].members} member(s), with the unsafe flag only for a single member`, async () => {
    const { spec } = await cr();
    expect(spec.replsets).toHaveLength(1);
    expect(spec.replsets[0]).toMatchObject({ name: "rs0", size: expected[stack].members });
    if (expected[stack].unsafe) expect(spec.unsafeFlags).toEqual({ replsetSize: true });
    else expect(spec.unsafeFlags).toBeUndefined();
    expect(spec.sharding).toEqual({ enabled: false });
  });

  it("pins the resource version and every image in infra/versions.ts", async () => {
    const { spec } = await cr();
    expect(spec.crVersion).toBe(crVersions.perconaServerMongodb);
    expect(spec.image).toBe(images.perconaServerMongodb);
    expect(spec.backup.image).toBe(images.perconaBackupMongodb);
    expect(spec.initImage).toBe(images.psmdbOperator);
    expect(spec.replsets[0].sidecars[0].image).toBe(images.mongodbExporter);
    expect(spec.upgradeOptions).toEqual({ apply: "disabled" });
  });

  it("requires TLS and encrypts at rest with a generated key that never shows", async () => {
    const plan = await cachedPlan(stack);
    const { spec } = await cr();
    expect(spec.tls).toMatchObject({ mode: "requireTLS", allowInvalidCertificates: false });
    expect(spec.secrets.encryptionKey).toBe("mongodb-encryption-key");
    expect(spec.replsets[0].configuration).toMatch(/enableEncryption: true/);
    const keySecret = k8sObject(plan, "Secret", "mongodb-encryption-key", infra);
    expect(inputs(keySecret).stringData).toEqual({ "encryption-key": "[secret]" });
    const [generator] = ofType(plan, "random:index/randomBytes:RandomBytes").filter((r) => r.name === "mongodb-encryption-key");
    expect(inputs(generator).length).toBe(32);
    expect(keySecret.dependsOn).toContain(generator.urn);
  });

  it("generates a password for each system user the operator needs", async () => {
    const plan = await cachedPlan(stack);
    const users = inputs(k8sObject(plan, "Secret", "mongodb-users", infra)).stringData;
    expect(Object.keys(users).sort()).toEqual(
      ["BACKUP", "CLUSTER_ADMIN", "CLUSTER_MONITOR", "DATABASE_ADMIN", "USER_ADMIN"].flatMap((u) => [`MONGODB_${u}_PASSWORD`, `MONGODB_${u}_USER`]).sort(),
    );
    expect(Object.values(users).every((v) => v === "[secret]")).toBe(true);
    expect(ofType(plan, "random:index/randomPassword:RandomPassword").filter((r) => r.name.startsWith("mongodb-"))).toHaveLength(6);
  });

  it(`backs up daily, keeps ${expected[stack].keep}, point-in-time ${expected[stack].pitr ? "on" : "off"}`, async () => {
    const { spec } = await cr();
    const spec_ = environments[stack].mongodb.backup;
    expect(spec.backup.tasks).toEqual([
      { name: "daily", enabled: true, schedule: spec_.schedule, storageName: "s3", type: "logical", retention: { type: "count", count: expected[stack].keep, deleteFromStorage: true } },
    ]);
    expect(spec_.schedule).toBe("0 0 * * *");
    expect(spec.backup.pitr.enabled).toBe(expected[stack].pitr);
    expect(spec.backup.storages.s3.s3).toMatchObject({ bucket: `diaspomoney-${stack}-mongodb-backups`, credentialsSecret: "mongodb-backup-s3", prefix: `${stack}/mongodb` });
  });

  it("installs the operator in the infra namespace, watching only it, never its CRDs (the cluster stack's)", async () => {
    const plan = await cachedPlan(stack);
    const [release] = ofType(plan, "kubernetes:helm.sh/v3:Release").filter((r) => inputs(r).chart === "psmdb-operator");
    const r = inputs(release);
    expect(r).toMatchObject({ name: "psmdb-operator", namespace: infra, version: charts.psmdbOperator.version, repositoryOpts: { repo: charts.psmdbOperator.repo } });
    expect(r.skipCrds).toBe(true);
    expect(r.values.watchAllNamespaces).toBe(false);
    expect(r.values.watchNamespace).toBeUndefined();
    expect(JSON.stringify(r.values)).not.toMatch(/secret|password|\[secret\]/i);
    const custom = k8sObject(plan, "PerconaServerMongoDB", "mongodb", infra);
    expect(custom.dependsOn).toContain(release.urn);
  });

  it("uses the stack's sizes and runs its pods under restricted security contexts", async () => {
    const { spec } = await cr();
    const rs = spec.replsets[0];
    expect(rs.resources).toEqual(environments[stack].mongodb.resources);
    expect(rs.volumeSpec.persistentVolumeClaim.resources.requests.storage).toBe(environments[stack].mongodb.storage);
    for (const sc of [rs.containerSecurityContext, spec.backup.containerSecurityContext, spec.initContainerSecurityContext, rs.sidecars[0].securityContext]) {
      expect(sc).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } });
    }
    expect(rs.podSecurityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
  });

  it("exports metrics on 9216 and tells the observability area how to find them", async () => {
    const plan = await cachedPlan(stack);
    const rs = (await cr()).spec.replsets[0];
    expect(rs.sidecars[0].ports).toEqual([{ name: "metrics", containerPort: 9216, protocol: "TCP" }]);
    expect((plan.outputs as any).data.mongodb.metrics).toEqual({
      namespace: infra,
      port: 9216,
      portName: "metrics",
      podLabels: { "app.kubernetes.io/name": "percona-server-mongodb", "app.kubernetes.io/instance": "mongodb", "app.kubernetes.io/replset": "rs0", "app.kubernetes.io/component": "mongod" },
    });
  });
});
