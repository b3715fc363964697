import * as pulumi from "@pulumi/pulumi";
import { AtlasSearchCluster, dailyTimeOf } from "../../components/atlas";
import type { EnvironmentContext } from "../context";
import { CONNECTION_SECRET } from "./index";
import { APP_DATABASE, APP_USER } from "./mongodb";

/** What Atlas gives the rest of the data layer, when the stack turns it on. */
export interface AtlasDeployment {
  /** `mongodb+srv://` connection string of the application user (a Pulumi secret); undefined in phase 1. */
  connectionString?: pulumi.Output<string>;
  cluster: AtlasSearchCluster;
  outputs: Record<string, unknown>;
}

/**
 * The Atlas Search project and cluster, when `features.atlas` is on; undefined otherwise. Without
 * `atlas.encryptionKey.iamRole` (phase 1 of a new project, docs/atlas.md) only the project and Atlas'
 * side of the AWS trust: the outputs then say what the AWS IAM role must trust.
 */
export function deployAtlas(ctx: EnvironmentContext): AtlasDeployment | undefined {
  const { spec, config } = ctx;
  if (!spec.features.atlas) return undefined;
  if (!config.atlas || !ctx.providers.atlas) throw new Error(`stack ${ctx.stack}: features.atlas is on but the Atlas config or provider is missing`);

  const cluster = new AtlasSearchCluster(
    "atlas",
    {
      orgId: config.atlas.orgId,
      projectName: `diaspomoney-${spec.name}`,
      clusterName: `diaspomoney-${spec.name}-search`,
      region: spec.atlas.region,
      instanceSize: spec.atlas.instanceSize,
      nodes: 3,
      encryptionKey: config.atlas.encryptionKey,
      accessList: config.atlas.accessList,
      appDatabase: APP_DATABASE,
      appUsername: APP_USER,
      backup: { ...dailyTimeOf(spec.mongodb.backup.schedule), keepDays: spec.mongodb.backup.keep },
      searchIndexes: spec.atlas.searchIndexes,
      terminationProtection: true,
      stateful: ctx.stateful,
      tags: { environment: spec.name, "managed-by": "pulumi", "part-of": "diaspomoney" },
    },
    { parent: ctx.parent, provider: ctx.providers.atlas },
  );

  const role = config.atlas.encryptionKey.iamRole;
  if (!role) {
    pulumi.log.warn(
      `Atlas project diaspomoney-${spec.name} is in phase 1: no cluster until atlas.encryptionKey.iamRole names the AWS IAM role that trusts data.atlas.encryptionAtRest (docs/atlas.md)`,
      cluster,
    );
  }
  return {
    connectionString: cluster.connectionString,
    cluster,
    outputs: {
      project: `diaspomoney-${spec.name}`,
      cluster: `diaspomoney-${spec.name}-search`,
      region: spec.atlas.region,
      instanceSize: spec.atlas.instanceSize,
      nodes: 3,
      minimumTls: "TLS1_2",
      terminationProtection: true,
      encryptionAtRest: role
        ? { provider: "AWS KMS customer key", awsKmsKeyId: config.atlas.encryptionKey.awsKmsKeyId, iamRoleArn: role.arn }
        : {
            phase: "1: awaiting the AWS IAM role (docs/atlas.md)",
            atlasAwsAccountArn: cluster.awsTrust.apply((t) => t.atlasAwsAccountArn ?? null),
            externalId: cluster.awsTrust.apply((t) => t.atlasAssumedRoleExternalId ?? null),
          },
      backup: { schedule: spec.mongodb.backup.schedule, keepDays: spec.mongodb.backup.keep, pointInTime: true },
      accessList: config.atlas.accessList,
      auditing: true,
      searchIndexes: spec.atlas.searchIndexes.map((i) => `${i.database}.${i.collection}/${i.name}`),
      protection: { protect: ctx.stateful.protect === true, retainOnDelete: ctx.stateful.retainOnDelete === true },
      // Where the app reads it: the URI holds the user's password, so it is never a stack output (a
      // policy pack sees secrets unwrapped and cannot tell them from plain values).
      connectionString: cluster.connectionString ? { secret: `${ctx.names.app}/${CONNECTION_SECRET}`, key: "MONGODB_ATLAS_URI" } : undefined,
    },
  };
}
