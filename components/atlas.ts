import * as mongodbatlas from "@pulumi/mongodbatlas";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * A MongoDB Atlas project and dedicated cluster for Atlas Search: one region, hardened (TLS ≥ 1.2,
 * customer-managed encryption key, auditing, no server-side JavaScript, redacted logs), continuously
 * backed up, reachable only from listed networks, with one database user limited to one database.
 * Pass the Atlas provider as `provider` in the options.
 */

export type SearchFieldType = "string" | "number" | "date" | "token" | "autocomplete";

export interface AtlasSearchIndexArgs {
  name: string;
  database: string;
  collection: string;
  /** Static mappings: only these fields are indexed (`dynamic: false`). */
  fields: Record<string, { type: SearchFieldType }>;
}

export interface AtlasSearchClusterArgs {
  orgId: pulumi.Input<string>;
  /** Project name in the organisation. */
  projectName: string;
  /** Cluster name in the project. */
  clusterName: string;
  /** Atlas region, e.g. `EU_WEST_1`. */
  region: string;
  /** Dedicated tier, e.g. `M30` (backups with point-in-time need M10 or more). */
  instanceSize: string;
  /** Electable nodes in the region. Default 3. */
  nodes?: number;
  /** Default `8.0`. */
  mongoDbMajorVersion?: string;
  /** Minimum TLS version clients may use. Default `TLS1_2`. */
  minimumTls?: "TLS1_2" | "TLS1_3";
  /** AWS KMS key for encryption at rest (Atlas cloud provider access role already authorised). */
  encryptionKey: { awsKmsKeyId: pulumi.Input<string>; region: pulumi.Input<string>; roleId: pulumi.Input<string> };
  /** Networks allowed to connect. Never `0.0.0.0/0` or `::/0`. */
  accessList: string[];
  /** Database of the application user; it gets `readWrite` there and nothing else. */
  appDatabase: string;
  /** Default `app`. */
  appUsername?: string;
  /** Daily snapshot time (UTC) and how many days daily snapshots are kept. */
  backup: { hourOfDay: number; minuteOfHour: number; keepDays: number; restoreWindowDays?: number };
  searchIndexes: AtlasSearchIndexArgs[];
  /** Default true: Atlas refuses to delete the cluster. */
  terminationProtection?: boolean;
  /** `protect` / `retainOnDelete` for the project, its encryption key binding and the cluster (production). */
  stateful?: Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete">;
  tags?: Record<string, string>;
}

const wholeInternet = /^0\.0\.0\.0\/0$|^::\/0$/;

/** The time of day of a daily five-field cron (`m h * * *`), for Atlas' snapshot reference time. */
export function dailyTimeOf(cron: string): { hourOfDay: number; minuteOfHour: number } {
  const f = cron.trim().split(/\s+/);
  const minute = Number(f[0]);
  const hour = Number(f[1]);
  if (f.length !== 5 || f.slice(2).some((x) => x !== "*") || !Number.isInteger(minute) || !Number.isInteger(hour) || minute < 0 || minute > 59 || hour < 0 || hour > 23) {
    throw new Error(`backup schedule "${cron}": expected a daily cron "<minute> <hour> * * *"`);
  }
  return { hourOfDay: hour, minuteOfHour: minute };
}

/** `mappingsFields` of an Atlas Search index: the declared fields with their types. */
export function searchMappings(fields: AtlasSearchIndexArgs["fields"]): string {
  return JSON.stringify(Object.fromEntries(Object.entries(fields).map(([field, { type }]) => [field, { type }])));
}

/** The cluster's `mongodb+srv://` address with the user's credentials and the database put in. */
export function atlasConnectionString(standardSrv: string, username: string, password: string, database: string): string {
  const prefix = "mongodb+srv://";
  if (!standardSrv.startsWith(prefix)) throw new Error(`unexpected Atlas SRV address "${standardSrv}"`);
  const host = standardSrv.slice(prefix.length).replace(/\/.*$/, "");
  const query = new URLSearchParams({ authSource: "admin", retryWrites: "true", w: "majority", tls: "true" });
  return `${prefix}${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}/${encodeURIComponent(database)}?${query}`;
}

/** What the audit log records: authentication (failed or not), user and role changes, schema changes. */
export const AUDIT_FILTER = {
  atype: {
    $in: [
      "authenticate",
      "logout",
      "createUser",
      "dropUser",
      "dropAllUsersFromDatabase",
      "updateUser",
      "grantRolesToUser",
      "revokeRolesFromUser",
      "createRole",
      "updateRole",
      "dropRole",
      "grantPrivilegesToRole",
      "revokePrivilegesFromRole",
      "createDatabase",
      "dropDatabase",
      "createCollection",
      "dropCollection",
      "renameCollection",
      "createIndex",
      "dropIndex",
      "shutdown",
    ],
  },
};

/** Rejects, before anything is created, an access list open to the internet and unreachable indexes. */
export function checkAtlasArgs(args: Pick<AtlasSearchClusterArgs, "accessList" | "searchIndexes" | "appDatabase">): void {
  const open = args.accessList.filter((c) => wholeInternet.test(c));
  if (open.length > 0) throw new Error(`Atlas access list: ${open.join(", ")} opens the cluster to the whole internet`);
  if (args.accessList.length === 0) throw new Error("Atlas access list: at least one network is required");
  for (const index of args.searchIndexes) {
    if (index.database !== args.appDatabase) {
      throw new Error(`Atlas search index "${index.name}" is on database "${index.database}", which the application user (${args.appDatabase}) cannot read`);
    }
  }
}

export class AtlasSearchCluster extends pulumi.ComponentResource {
  readonly project: mongodbatlas.Project;
  readonly cluster: mongodbatlas.AdvancedCluster;
  readonly user: mongodbatlas.DatabaseUser;
  readonly searchIndexes: mongodbatlas.SearchIndex[];
  /** `mongodb+srv://` connection string of the application user (a Pulumi secret). */
  readonly connectionString: pulumi.Output<string>;

  constructor(name: string, args: AtlasSearchClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    checkAtlasArgs(args);
    super("diaspomoney:data:AtlasSearchCluster", name, {}, opts);
    const child = { parent: this };
    const stateful = { ...child, ...(args.stateful ?? {}) };
    const nodes = args.nodes ?? 3;
    const username = args.appUsername ?? "app";

    this.project = new mongodbatlas.Project(
      `${name}-project`,
      {
        name: args.projectName,
        orgId: args.orgId,
        withDefaultAlertsSettings: true,
        // No document samples or schemas sent to generative AI features (GDPR).
        isDataExplorerGenAiFeaturesEnabled: false,
        isDataExplorerGenAiSampleDocumentPassingEnabled: false,
        tags: args.tags,
      },
      stateful,
    );
    const projectId = this.project.id;

    const encryption = new mongodbatlas.EncryptionAtRest(
      `${name}-encryption`,
      {
        projectId,
        awsKmsConfig: {
          enabled: true,
          customerMasterKeyId: args.encryptionKey.awsKmsKeyId,
          region: args.encryptionKey.region,
          roleId: args.encryptionKey.roleId,
        },
      },
      stateful,
    );

    const accessEntries = args.accessList.map(
      (cidrBlock, i) => new mongodbatlas.ProjectIpAccessList(`${name}-access-${i}`, { projectId, cidrBlock, comment: "managed by Pulumi" }, child),
    );

    new mongodbatlas.Auditing(
      `${name}-auditing`,
      { projectId, enabled: true, auditAuthorizationSuccess: false, auditFilter: JSON.stringify(AUDIT_FILTER) },
      child,
    );

    this.cluster = new mongodbatlas.AdvancedCluster(
      `${name}-cluster`,
      {
        projectId,
        name: args.clusterName,
        clusterType: "REPLICASET",
        mongoDbMajorVersion: args.mongoDbMajorVersion ?? "8.0",
        replicationSpecs: [
          {
            regionConfigs: [
              {
                providerName: "AWS",
                regionName: args.region,
                priority: 7,
                electableSpecs: { instanceSize: args.instanceSize, nodeCount: nodes },
              },
            ],
          },
        ],
        encryptionAtRestProvider: "AWS",
        backupEnabled: true,
        pitEnabled: true,
        retainBackupsEnabled: true,
        terminationProtectionEnabled: args.terminationProtection ?? true,
        redactClientLogData: true,
        advancedConfiguration: {
          minimumEnabledTlsProtocol: args.minimumTls ?? "TLS1_2",
          javascriptEnabled: false,
        },
        tags: args.tags,
      },
      { ...stateful, dependsOn: [encryption, ...accessEntries] },
    );

    const backupSchedule = new mongodbatlas.CloudBackupSchedule(
      `${name}-backup`,
      {
        projectId,
        clusterName: this.cluster.name,
        referenceHourOfDay: args.backup.hourOfDay,
        referenceMinuteOfHour: args.backup.minuteOfHour,
        restoreWindowDays: args.backup.restoreWindowDays ?? Math.min(7, args.backup.keepDays),
        policyItemDaily: { frequencyInterval: 1, retentionUnit: "days", retentionValue: args.backup.keepDays },
      },
      child,
    );

    const password = new random.RandomPassword(`${name}-app-password`, { length: 32, special: false }, child);
    this.user = new mongodbatlas.DatabaseUser(
      `${name}-app-user`,
      {
        projectId,
        username,
        password: password.result,
        authDatabaseName: "admin",
        roles: [{ roleName: "readWrite", databaseName: args.appDatabase }],
        scopes: [{ name: this.cluster.name, type: "CLUSTER" }],
      },
      child,
    );

    this.searchIndexes = args.searchIndexes.map(
      (index) =>
        new mongodbatlas.SearchIndex(
          `${name}-search-${index.name}`,
          {
            projectId,
            clusterName: this.cluster.name,
            name: index.name,
            database: index.database,
            collectionName: index.collection,
            type: "search",
            mappingsDynamic: false,
            mappingsFields: searchMappings(index.fields),
          },
          child,
        ),
    );

    this.connectionString = pulumi.secret(
      pulumi
        .all([this.cluster.connectionStrings, password.result])
        .apply(([cs, pw]) => {
          if (!cs?.standardSrv) throw new Error(`Atlas cluster ${args.clusterName} reported no standard SRV address`);
          return atlasConnectionString(cs.standardSrv, username, pw, args.appDatabase);
        }),
    );

    this.registerOutputs({
      projectName: args.projectName,
      clusterName: args.clusterName,
      region: args.region,
      instanceSize: args.instanceSize,
      nodes,
      minimumTls: args.minimumTls ?? "TLS1_2",
      terminationProtection: args.terminationProtection ?? true,
      encryptionAtRest: "AWS KMS (customer key)",
      backup: { daily: `${args.backup.hourOfDay}:${String(args.backup.minuteOfHour).padStart(2, "0")} UTC`, keepDays: args.backup.keepDays, pointInTime: true },
      backupScheduleId: backupSchedule.id,
      accessList: args.accessList,
      auditing: true,
      searchIndexes: args.searchIndexes.map((i) => `${i.database}.${i.collection}/${i.name}`),
      connectionString: this.connectionString,
    });
  }
}
