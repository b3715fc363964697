import { describe, expect, it } from "vitest";
import { loadEnvironment, PROJECT, type RawStackConfig } from "../../infra/config/load";
import { environments } from "../../stacks";
import { cachedPlan, inputs, k8sObject, ofType, planStack, stackConfig, STACKS } from "../harness";

const EU_REGIONS = ["EU_WEST_1", "EU_WEST_3", "EU_CENTRAL_1", "EU_CENTRAL_2", "EU_NORTH_1", "EU_SOUTH_1", "EU_SOUTH_2"];

function rawConfig(stack: string, change: Record<string, unknown>): RawStackConfig {
  const cfg = stackConfig(stack, { config: change });
  const values = Object.fromEntries(Object.entries(cfg.values).map(([k, v]) => [k.slice(PROJECT.length + 1), v]));
  return { values, secret: new Set(cfg.secretKeys.map((k) => k.slice(PROJECT.length + 1))) };
}

describe("MongoDB Atlas", () => {
  it.each(["dev", "rct"] as const)("is off in %s: no Atlas resource, no Atlas URI", async (stack) => {
    const plan = await cachedPlan(stack);
    expect(plan.resources.filter((r) => r.type.startsWith("mongodbatlas:") || r.type === "pulumi:providers:mongodbatlas")).toEqual([]);
    expect((plan.outputs as any).data.atlas).toEqual({ enabled: false });
  });

  it("is on in prod: one project and one 3-node cluster in an EU region, through the Atlas provider", async () => {
    const plan = await cachedPlan("prod");
    const [provider] = ofType(plan, "pulumi:providers:mongodbatlas");
    const atlas = plan.resources.filter((r) => r.custom && r.type.startsWith("mongodbatlas:"));
    expect(atlas.length).toBeGreaterThan(0);
    for (const r of atlas) expect(r.provider, r.urn).toBe(`${provider.urn}::${provider.name}-id`);
    expect(ofType(plan, "mongodbatlas:index/project:Project").map((r) => inputs(r).orgId)).toEqual([JSON.parse(stackConfig("prod").values[`${PROJECT}:atlas`]).orgId]);
    const [cluster] = ofType(plan, "mongodbatlas:index/advancedCluster:AdvancedCluster");
    const region = inputs(cluster).replicationSpecs[0].regionConfigs[0];
    expect(EU_REGIONS).toContain(region.regionName);
    expect(region.regionName).toBe(environments.prod.atlas.region);
    expect(region.electableSpecs).toEqual({ instanceSize: environments.prod.atlas.instanceSize, nodeCount: 3 });
  });

  it("requires TLS 1.2 or higher, protects against termination and encrypts with the customer key", async () => {
    const plan = await cachedPlan("prod");
    const c = inputs(ofType(plan, "mongodbatlas:index/advancedCluster:AdvancedCluster")[0]);
    expect(["TLS1_2", "TLS1_3"]).toContain(c.advancedConfiguration.minimumEnabledTlsProtocol);
    expect(c.terminationProtectionEnabled).toBe(true);
    expect(c.encryptionAtRestProvider).toBe("AWS");
    const key = JSON.parse(stackConfig("prod").values[`${PROJECT}:atlas`]).encryptionKey;
    const [encryption] = ofType(plan, "mongodbatlas:index/encryptionAtRest:EncryptionAtRest");
    expect(inputs(encryption).awsKmsConfig).toMatchObject({ enabled: true, customerMasterKeyId: key.awsKmsKeyId, region: key.region });
    // Atlas' role for the key is the one this project's setup created and the authorization vouched for.
    const [authorization] = ofType(plan, "mongodbatlas:index/cloudProviderAccessAuthorization:CloudProviderAccessAuthorization");
    expect(inputs(authorization).aws).toEqual({ iamAssumedRoleArn: key.iamRole.arn });
    expect(encryption.dependsOn).toContain(authorization.urn);
  });

  it("refuses a role id from config: such roles belong to one project, and this program creates the project", () => {
    const atlas = JSON.parse(stackConfig("prod").values[`${PROJECT}:atlas`]);
    const legacy = { ...atlas, encryptionKey: { ...atlas.encryptionKey, roleId: "65a1b2c3d4e5f60718293a4b" } };
    expect(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { atlas: legacy }))).toThrow(/atlas\.encryptionKey/);
    const badArn = { ...atlas, encryptionKey: { ...atlas.encryptionKey, iamRole: { ...atlas.encryptionKey.iamRole, arn: "atlas-kms" } } };
    expect(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { atlas: badArn }))).toThrow(/an IAM role ARN/);
  });

  it("in phase 1 (no IAM role yet) creates no cluster, says what the AWS role must trust, and claims nothing of a cluster", async () => {
    const atlas = JSON.parse(stackConfig("prod").values[`${PROJECT}:atlas`]);
    const { iamRole: _, ...encryptionKey } = atlas.encryptionKey;
    const plan = await planStack("prod", { config: { atlas: { ...atlas, encryptionKey } } });
    const types = plan.resources.filter((r) => r.custom && r.type.startsWith("mongodbatlas:")).map((r) => r.type.split(":").pop());
    expect(types.sort()).toEqual(["Auditing", "CloudProviderAccessSetup", "Project", ...atlas.accessList.map(() => "ProjectIpAccessList")].sort());
    const outputs = plan.outputs as any;
    expect(outputs.data.atlas.encryptionAtRest).toMatchObject({ phase: expect.stringMatching(/^1: awaiting the AWS IAM role/) });
    expect(outputs.data.atlas.connectionString).toBeUndefined();
    expect(outputs.compliance.encryptionAtRest.atlas).toBeNull();
    expect(outputs.compliance.tls.atlasMinVersion).toBeNull();
  });

  it("backs up continuously with a daily snapshot at the stack's backup time, kept as long as the stack says", async () => {
    const plan = await cachedPlan("prod");
    const c = inputs(ofType(plan, "mongodbatlas:index/advancedCluster:AdvancedCluster")[0]);
    expect(c).toMatchObject({ backupEnabled: true, pitEnabled: true });
    const schedule = inputs(ofType(plan, "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule")[0]);
    expect(schedule).toMatchObject({ referenceHourOfDay: 0, referenceMinuteOfHour: 0, policyItemDaily: { frequencyInterval: 1, retentionUnit: "days", retentionValue: environments.prod.mongodb.backup.keep } });
  });

  it("allows exactly the configured networks, audits, and declares the stack's search indexes", async () => {
    const plan = await cachedPlan("prod");
    const configured = JSON.parse(stackConfig("prod").values[`${PROJECT}:atlas`]).accessList;
    expect(ofType(plan, "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList").map((r) => inputs(r).cidrBlock)).toEqual(configured);
    expect(inputs(ofType(plan, "mongodbatlas:index/auditing:Auditing")[0]).enabled).toBe(true);
    const indexes = ofType(plan, "mongodbatlas:index/searchIndex:SearchIndex").map((r) => inputs(r));
    expect(indexes.map((i) => [i.database, i.collectionName, i.name])).toEqual(environments.prod.atlas.searchIndexes.map((i) => [i.database, i.collection, i.name]));
    expect(JSON.parse(indexes[0].mappingsFields)).toEqual(environments.prod.atlas.searchIndexes[0].fields);
  });

  it("gives the app a generated-password user limited to the app database", async () => {
    const plan = await cachedPlan("prod");
    const user = inputs(ofType(plan, "mongodbatlas:index/databaseUser:DatabaseUser")[0]);
    expect(user.password).toBe("[secret]");
    expect(user.roles).toEqual([{ roleName: "readWrite", databaseName: "diaspomoney" }]);
  });

  it("puts the connection string in the app's Secret and names only that Secret in the outputs", async () => {
    const plan = await cachedPlan("prod");
    expect((plan.outputs as any).data.atlas.connectionString).toEqual({ secret: "diaspomoney-prod/data-connections", key: "MONGODB_ATLAS_URI" });
    expect(Object.keys(inputs(k8sObject(plan, "Secret", "data-connections", "diaspomoney-prod")).stringData)).toContain("MONGODB_ATLAS_URI");
  });

  it("never accepts an access list open to the whole internet (schema)", () => {
    const atlas = JSON.parse(stackConfig("prod").values[`${PROJECT}:atlas`]);
    expect(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { atlas }))).not.toThrow();
    for (const open of ["0.0.0.0/0", "::/0"]) {
      expect(() => loadEnvironment("prod", environments.prod, rawConfig("prod", { atlas: { ...atlas, accessList: [open] } })), open).toThrow(/never the whole internet/);
    }
  });
});

describe.each(STACKS)("Atlas outputs of %s", (stack) => {
  it("hold no placeholder", async () => {
    const plan = await cachedPlan(stack);
    expect(JSON.stringify((plan.outputs as any).data)).not.toMatch(/offline-placeholder/);
  });
});
