import * as mongodbatlas from "@pulumi/mongodbatlas";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { networksOf, parseNetwork, wholeInternetIn } from "../infra/net";

/**
 * A MongoDB Atlas project and dedicated cluster for Atlas Search: one region, hardened (TLS ≥ 1.2,
 * customer-managed encryption key, auditing, no server-side JavaScript, redacted logs), continuously
 * backed up, reachable only from listed networks, with one database user limited to one database.
 * Pass the Atlas provider as `provider` in the options.
 *
 * Encryption at rest needs an AWS IAM role that Atlas assumes to use the KMS key. Atlas' side of that
 * trust belongs to the project: the component creates it (`CloudProviderAccessSetup`, which yields
 * the Atlas AWS account and the external id the role must trust, then
 * `CloudProviderAccessAuthorization` of the role), so no role id is ever carried over from another
 * project. The AWS role itself is created outside this program (it has no AWS provider), from the
 * setup's outputs: a new project therefore comes up in two phases (docs/atlas.md). Without
 * `encryptionKey.iamRole` (phase 1) the component creates the project, its network access list,
 * auditing and the access setup, and nothing that would hold data: no cluster exists unencrypted.
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
  /** AWS KMS key for encryption at rest, and the AWS IAM role Atlas assumes to use it (unset: phase 1). */
  encryptionKey: { awsKmsKeyId: pulumi.Input<string>; region: pulumi.Input<string>; iamRole?: AtlasIamRole };
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

/** An AWS IAM role created for this project's access setup: its ARN, and the external id its trust policy requires. */
export interface AtlasIamRole {
  arn: string;
  externalId: string;
}

/** What the AWS IAM role's trust policy must name: the setup's `awsConfigs[0]`. */
export interface AtlasAwsTrust {
  atlasAwsAccountArn?: string;
  atlasAssumedRoleExternalId?: string;
}


/**
 * The role ARN to authorise, once the project's access setup is known to be the one the role trusts:
 * a role made for another setup (another project, or a setup created in this very `up` because phase 1
 * was skipped) is refused here, before Atlas is asked to assume it, and so before anything is encrypted
 * or the cluster created. Unknown trust (a preview of a new setup, the offline plan) passes: the check
 * then happens during `up`, still before the authorization.
 */
export function trustedRoleArn(project: string, trust: AtlasAwsTrust | undefined, role: AtlasIamRole): string {
  const actual = trust?.atlasAssumedRoleExternalId;
  if (actual !== undefined && actual !== role.externalId) {
    throw new Error(
      `Atlas project ${project}: its cloud provider access setup has external id "${actual}", but atlas.encryptionKey.iamRole.externalId is "${role.externalId}". ` +
        `The IAM role ${role.arn} must trust ${trust?.atlasAwsAccountArn ?? "the Atlas AWS account"} with this external id: update its trust policy and the config, then run pulumi up again (docs/atlas.md, phase 2). Nothing was encrypted and no cluster was created.`,
    );
  }
  return role.arn;
}

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
  const invalid = args.accessList.flatMap((c) => {
    const parsed = parseNetwork(c);
    return parsed.ok ? [] : [`${c} (${parsed.reason})`];
  });
  if (invalid.length > 0) throw new Error(`Atlas access list: ${invalid.join(", ")} is not a network`);
  const open = wholeInternetIn(networksOf(args.accessList));
  if (open) throw new Error(`Atlas access list: ${args.accessList.join(", ")} opens the cluster to the whole internet (every ${open} address)`);
  if (args.accessList.length === 0) throw new Error("Atlas access list: at least one network is required");
  for (const index of args.searchIndexes) {
    if (index.database !== args.appDatabase) {
      throw new Error(`Atlas search index "${index.name}" is on database "${index.database}", which the application user (${args.appDatabase}) cannot read`);
    }
  }
}

export class AtlasSearchCluster extends pulumi.ComponentResource {
  readonly project: mongodbatlas.Project;
  /** Atlas' side of the trust with the AWS IAM role (its outputs are what the role must trust). */
  readonly awsAccess: mongodbatlas.CloudProviderAccessSetup;
  /** The role's ARN and external id to trust, for the AWS side (phase 1 of docs/atlas.md). */
  readonly awsTrust: pulumi.Output<AtlasAwsTrust>;
  /** Undefined in phase 1 (no `encryptionKey.iamRole`): no cluster exists before its key is usable. */
  readonly cluster?: mongodbatlas.AdvancedCluster;
  readonly user?: mongodbatlas.DatabaseUser;
  readonly searchIndexes: mongodbatlas.SearchIndex[] = [];
  /** `mongodb+srv://` connection string of the application user (a Pulumi secret); undefined in phase 1. */
  readonly connectionString?: pulumi.Output<string>;

  constructor(name: string, args: AtlasSearchClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    checkAtlasArgs(args);
    super("diaspomoney:data:AtlasSearchCluster", name, {}, opts);
    const child = { parent: this };
    const stateful = { ...child, ...(args.stateful ?? {}) };
    const nodes = args.nodes ?? 3;

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

    this.awsAccess = new mongodbatlas.CloudProviderAccessSetup(`${name}-aws-access`, { projectId, providerName: "AWS" }, stateful);
    this.awsTrust = this.awsAccess.awsConfigs.apply((configs) => ({ ...(configs?.[0] ?? {}) }));

    const accessEntries = args.accessList.map(
      (cidrBlock, i) => new mongodbatlas.ProjectIpAccessList(`${name}-access-${i}`, { projectId, cidrBlock, comment: "managed by Pulumi" }, child),
    );

    new mongodbatlas.Auditing(
      `${name}-auditing`,
      { projectId, enabled: true, auditAuthorizationSuccess: false, auditFilter: JSON.stringify(AUDIT_FILTER) },
      child,
    );

    const role = args.encryptionKey.iamRole;
    let backupSchedule: mongodbatlas.CloudBackupSchedule | undefined;
    if (role) {
      const authorization = new mongodbatlas.CloudProviderAccessAuthorization(
        `${name}-aws-access-authorization`,
        {
          projectId,
          roleId: this.awsAccess.roleId,
          aws: { iamAssumedRoleArn: this.awsTrust.apply((trust) => trustedRoleArn(args.projectName, trust, role)) },
        },
        stateful,
      );
      const encryption = new mongodbatlas.EncryptionAtRest(
        `${name}-encryption`,
        {
          projectId,
          awsKmsConfig: { enabled: true, customerMasterKeyId: args.encryptionKey.awsKmsKeyId, region: args.encryptionKey.region, roleId: authorization.roleId },
        },
        stateful,
      );
      const built = this.encryptedCluster(name, args, projectId, { ...stateful, dependsOn: [encryption, ...accessEntries] });
      ({ cluster: this.cluster, user: this.user, searchIndexes: this.searchIndexes, connectionString: this.connectionString, backupSchedule } = built);
    }

    this.registerOutputs({
      projectName: args.projectName,
      clusterName: args.clusterName,
      region: args.region,
      instanceSize: args.instanceSize,
      nodes,
      minimumTls: args.minimumTls ?? "TLS1_2",
      terminationProtection: args.terminationProtection ?? true,
      encryptionAtRest: role ? { provider: "AWS KMS (customer key)", iamRoleArn: role.arn } : { phase: "awaiting the AWS IAM role (docs/atlas.md)", trust: this.awsTrust },
      backup: { daily: `${args.backup.hourOfDay}:${String(args.backup.minuteOfHour).padStart(2, "0")} UTC`, keepDays: args.backup.keepDays, pointInTime: true },
      backupScheduleId: backupSchedule?.id,
      accessList: args.accessList,
      auditing: true,
      searchIndexes: args.searchIndexes.map((i) => `${i.database}.${i.collection}/${i.name}`),
      connectionString: this.connectionString,
    });
  }

  /** Phase 2: the cluster, once its encryption key is usable (`clusterOpts` depend on it), its backups, user and indexes. */
  private encryptedCluster(
    name: string,
    args: AtlasSearchClusterArgs,
    projectId: pulumi.Output<string>,
    clusterOpts: pulumi.CustomResourceOptions,
  ) {
    const child = { parent: this };
    const nodes = args.nodes ?? 3;
    const username = args.appUsername ?? "app";
    const cluster = new mongodbatlas.AdvancedCluster(
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
      clusterOpts,
    );

    const backupSchedule = new mongodbatlas.CloudBackupSchedule(
      `${name}-backup`,
      {
        projectId,
        clusterName: cluster.name,
        referenceHourOfDay: args.backup.hourOfDay,
        referenceMinuteOfHour: args.backup.minuteOfHour,
        restoreWindowDays: args.backup.restoreWindowDays ?? Math.min(7, args.backup.keepDays),
        policyItemDaily: { frequencyInterval: 1, retentionUnit: "days", retentionValue: args.backup.keepDays },
      },
      child,
    );

    const password = new random.RandomPassword(`${name}-app-password`, { length: 32, special: false }, child);
    const user = new mongodbatlas.DatabaseUser(
      `${name}-app-user`,
      {
        projectId,
        username,
        password: password.result,
        authDatabaseName: "admin",
        roles: [{ roleName: "readWrite", databaseName: args.appDatabase }],
        scopes: [{ name: cluster.name, type: "CLUSTER" }],
      },
      child,
    );

    const searchIndexes = args.searchIndexes.map(
      (index) =>
        new mongodbatlas.SearchIndex(
          `${name}-search-${index.name}`,
          {
            projectId,
            clusterName: cluster.name,
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

    const connectionString = pulumi.secret(
      pulumi.all([cluster.connectionStrings, password.result]).apply(([cs, pw]) => {
        if (!cs?.standardSrv) throw new Error(`Atlas cluster ${args.clusterName} reported no standard SRV address`);
        return atlasConnectionString(cs.standardSrv, username, pw, args.appDatabase);
      }),
    );
    return { cluster, user, searchIndexes, connectionString, backupSchedule };
  }
}
