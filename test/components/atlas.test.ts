import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  atlasConnectionString,
  AtlasSearchCluster,
  AUDIT_FILTER,
  checkAtlasArgs,
  dailyTimeOf,
  searchMappings,
  trustedRoleArn,
  type AtlasSearchClusterArgs,
} from "../../components/atlas";
import { computedState, SECRET } from "../../infra/plan/recorder";
import { inputs, ofType, planProgram } from "../harness";

const ROLE = { arn: "arn:aws:iam::123456789012:role/atlas-kms", externalId: "3c9e7a51-2b4d-4f8e-9a10-6d5c4b3a2f19" };
const T = {
  setup: "mongodbatlas:index/cloudProviderAccessSetup:CloudProviderAccessSetup",
  authorization: "mongodbatlas:index/cloudProviderAccessAuthorization:CloudProviderAccessAuthorization",
  encryption: "mongodbatlas:index/encryptionAtRest:EncryptionAtRest",
  cluster: "mongodbatlas:index/advancedCluster:AdvancedCluster",
};

function args(overrides: Partial<AtlasSearchClusterArgs> = {}): AtlasSearchClusterArgs {
  return {
    orgId: "5f1e2d3c4b5a69788796a5b4",
    projectName: "p",
    clusterName: "c",
    region: "EU_CENTRAL_1",
    instanceSize: "M30",
    encryptionKey: { awsKmsKeyId: "key", region: "EU_CENTRAL_1", iamRole: ROLE },
    accessList: ["198.51.100.0/28"],
    appDatabase: "shop",
    backup: { hourOfDay: 3, minuteOfHour: 15, keepDays: 14 },
    searchIndexes: [{ name: "orders", database: "shop", collection: "orders", fields: { ref: { type: "token" }, at: { type: "date" } } }],
    ...overrides,
  };
}

describe("Atlas argument checks", () => {
  it("accept bounded networks", () => {
    expect(() => checkAtlasArgs(args({ accessList: ["198.51.100.0/28", "2001:db8::/48"] }))).not.toThrow();
  });

  it("reject the whole internet, IPv4 or IPv6, and an empty list", () => {
    expect(() => checkAtlasArgs(args({ accessList: ["198.51.100.0/28", "0.0.0.0/0"] }))).toThrow(/0\.0\.0\.0\/0 opens the cluster/);
    expect(() => checkAtlasArgs(args({ accessList: ["::/0"] }))).toThrow(/::\/0 opens the cluster/);
    expect(() => checkAtlasArgs(args({ accessList: ["0.0.0.0/1", "128.0.0.0/1"] }))).toThrow(/opens the cluster to the whole internet \(every IPv4 address\)/);
    expect(() => checkAtlasArgs(args({ accessList: ["::ffff:0:0/96"] }))).toThrow(/every IPv4 address/);
    expect(() => checkAtlasArgs(args({ accessList: ["300.1.1.1/32"] }))).toThrow(/300\.1\.1\.1\/32 \(.*\) is not a network/);
    expect(() => checkAtlasArgs(args({ accessList: [] }))).toThrow(/at least one network/);
  });

  it("reject a search index on a database the application user cannot read", () => {
    const other = [{ name: "x", database: "billing", collection: "c", fields: {} }];
    expect(() => checkAtlasArgs(args({ searchIndexes: other }))).toThrow(/"billing"/);
  });

  it("are applied before the component registers anything", () => {
    expect(() => new AtlasSearchCluster("open", args({ accessList: ["0.0.0.0/0"] }))).toThrow(/whole internet/);
  });
});

describe("Atlas helpers", () => {
  it("read the time of a daily cron and refuse other schedules", () => {
    expect(dailyTimeOf("0 0 * * *")).toEqual({ hourOfDay: 0, minuteOfHour: 0 });
    expect(dailyTimeOf("30 2 * * *")).toEqual({ hourOfDay: 2, minuteOfHour: 30 });
    for (const bad of ["0 */6 * * *", "0 0 * * 1", "61 0 * * *", "0 0 * *"]) expect(() => dailyTimeOf(bad), bad).toThrow(/daily cron/);
  });

  it("map only the declared search fields", () => {
    expect(JSON.parse(searchMappings({ ref: { type: "token" }, amount: { type: "number" } }))).toEqual({ ref: { type: "token" }, amount: { type: "number" } });
  });

  it("put credentials and database into the SRV address", () => {
    const uri = atlasConnectionString("mongodb+srv://c.ab12c.mongodb.net", "app", "p@ss/word", "shop");
    expect(uri).toBe("mongodb+srv://app:p%40ss%2Fword@c.ab12c.mongodb.net/shop?authSource=admin&retryWrites=true&w=majority&tls=true");
    expect(() => atlasConnectionString("mongodb://c:27017", "a", "b", "c")).toThrow(/SRV/);
  });

  it("have an offline stand-in for the cluster's addresses that cannot resolve", () => {
    const state = computedState("mongodbatlas:index/advancedCluster:AdvancedCluster", "x", { name: "Search" }) as any;
    expect(state.connectionStrings.standardSrv).toMatch(/^mongodb\+srv:\/\/search\.[0-9a-f]{5}\.mongodb\.invalid$/);
  });
});

describe("an AtlasSearchCluster", () => {
  it("builds a 3-node cluster in the requested region with TLS ≥ 1.2, customer key, backups and protection", async () => {
    const plan = await planProgram("dev", async () => (new AtlasSearchCluster("a", args({ stateful: { protect: true, retainOnDelete: true } })), {}));
    const [cluster] = ofType(plan, "mongodbatlas:index/advancedCluster:AdvancedCluster");
    const c = inputs(cluster);
    expect(c.replicationSpecs).toEqual([{ regionConfigs: [{ providerName: "AWS", regionName: "EU_CENTRAL_1", priority: 7, electableSpecs: { instanceSize: "M30", nodeCount: 3 } }] }]);
    expect(c.advancedConfiguration.minimumEnabledTlsProtocol).toBe("TLS1_2");
    expect(c).toMatchObject({ encryptionAtRestProvider: "AWS", backupEnabled: true, pitEnabled: true, terminationProtectionEnabled: true, redactClientLogData: true });
    expect(cluster.protect && cluster.retainOnDelete).toBe(true);
    const [encryption] = ofType(plan, T.encryption);
    expect(inputs(encryption).awsKmsConfig).toMatchObject({ enabled: true, customerMasterKeyId: "key", region: "EU_CENTRAL_1" });
    expect(cluster.dependsOn).toContain(encryption.urn);
    const [schedule] = ofType(plan, "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule");
    expect(inputs(schedule)).toMatchObject({ referenceHourOfDay: 3, referenceMinuteOfHour: 15, restoreWindowDays: 7, policyItemDaily: { frequencyInterval: 1, retentionUnit: "days", retentionValue: 14 } });
  });

  it("scopes the generated-password user to the app database on this cluster", async () => {
    const plan = await planProgram("dev", async () => (new AtlasSearchCluster("a", args()), {}));
    const [user] = ofType(plan, "mongodbatlas:index/databaseUser:DatabaseUser");
    expect(inputs(user)).toMatchObject({ username: "app", authDatabaseName: "admin", password: SECRET, roles: [{ roleName: "readWrite", databaseName: "shop" }], scopes: [{ name: "c", type: "CLUSTER" }] });
  });

  it("audits authentication and user and schema changes, lists the networks and declares the indexes", async () => {
    const plan = await planProgram("dev", async () => (new AtlasSearchCluster("a", args({ accessList: ["198.51.100.0/28", "203.0.113.0/28"] })), {}));
    const [auditing] = ofType(plan, "mongodbatlas:index/auditing:Auditing");
    expect(inputs(auditing).enabled).toBe(true);
    expect(JSON.parse(inputs(auditing).auditFilter)).toEqual(AUDIT_FILTER);
    expect(AUDIT_FILTER.atype.$in).toEqual(expect.arrayContaining(["authenticate", "createUser", "dropDatabase"]));
    expect(ofType(plan, "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList").map((r) => inputs(r).cidrBlock)).toEqual(["198.51.100.0/28", "203.0.113.0/28"]);
    const [index] = ofType(plan, "mongodbatlas:index/searchIndex:SearchIndex");
    expect(inputs(index)).toMatchObject({ name: "orders", database: "shop", collectionName: "orders", mappingsDynamic: false, type: "search" });
  });

  it("exposes the connection string only as a secret, built from the cluster's SRV address", async () => {
    const plan = await planProgram("dev", async () => {
      const atlas = new AtlasSearchCluster("a", args());
      // Unwrapped here only so the test can read what the secret holds.
      return { uri: atlas.connectionString, revealed: pulumi.unsecret(atlas.connectionString!) };
    });
    expect(plan.outputs.uri).toBe(SECRET);
    const password = computedState("random:index/randomPassword:RandomPassword", "a-app-password", { length: 32 }).result as string;
    expect(plan.outputs.revealed).toMatch(new RegExp(`^mongodb\\+srv://app:${password}@c\\.[0-9a-f]{5}\\.mongodb\\.invalid/shop\\?authSource=admin&`));
  });
});

describe("encryption at rest in a new Atlas project", () => {
  it("uses a role Atlas creates and authorises in this project, never one from config", async () => {
    const plan = await planProgram("dev", async () => (new AtlasSearchCluster("a", args({ stateful: { protect: true, retainOnDelete: true } })), {}));
    const [project] = ofType(plan, "mongodbatlas:index/project:Project");
    const [setup] = ofType(plan, T.setup);
    const [authorization] = ofType(plan, T.authorization);
    const [encryption] = ofType(plan, T.encryption);
    const [cluster] = ofType(plan, T.cluster);
    expect(inputs(setup)).toMatchObject({ providerName: "AWS" });
    expect(setup.dependsOn).toContain(project.urn);
    expect(inputs(authorization).aws).toEqual({ iamAssumedRoleArn: ROLE.arn });
    // The role id of the authorization (hence of the setup), not a configured one.
    expect(authorization.dependsOn).toContain(setup.urn);
    expect(encryption.dependsOn).toContain(authorization.urn);
    expect(cluster.dependsOn).toContain(encryption.urn);
    for (const r of [setup, authorization, encryption]) expect(r.protect && r.retainOnDelete, r.type).toBe(true);
  });

  it("phase 1 (no IAM role yet): the project, its access list, auditing and the access setup, and nothing that holds data", async () => {
    const plan = await planProgram("dev", async () => {
      const atlas = new AtlasSearchCluster("a", args({ encryptionKey: { awsKmsKeyId: "key", region: "EU_CENTRAL_1" } }));
      return { trust: atlas.awsTrust, uri: atlas.connectionString ?? null };
    });
    const types = plan.resources.filter((r) => r.custom).map((r) => r.type.split(":").pop());
    expect(types.sort()).toEqual(["Auditing", "CloudProviderAccessSetup", "Project", "ProjectIpAccessList"]);
    expect(plan.outputs.uri).toBeNull();
  });

  it("authorises the configured role only for the external id it trusts (fail fast before Atlas assumes it)", () => {
    const trust = { atlasAwsAccountArn: "arn:aws:iam::536727724300:root", atlasAssumedRoleExternalId: ROLE.externalId };
    expect(trustedRoleArn("p", trust, ROLE)).toBe(ROLE.arn);
    expect(trustedRoleArn("p", undefined, ROLE)).toBe(ROLE.arn);
    expect(trustedRoleArn("p", {}, ROLE)).toBe(ROLE.arn);
    const other = { ...trust, atlasAssumedRoleExternalId: "0b1e4c7d-0000-4000-8000-000000000000" };
    expect(() => trustedRoleArn("diaspomoney-prod", other, ROLE)).toThrow(
      /Atlas project diaspomoney-prod: its cloud provider access setup has external id "0b1e4c7d-.*", but atlas\.encryptionKey\.iamRole\.externalId is "3c9e7a51-.*must trust arn:aws:iam::536727724300:root.*Nothing was encrypted and no cluster was created/s,
    );
  });
});
