import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { leafCertificateSpec, type IssuedTls } from "./internal-ca";
import { awaitAnnotations, helmReleaseAwait } from "./lifecycle";
import { apiServerEgress, ciliumClusterAccess, PUBLIC_IP_BLOCKS, type ApiServerAccess } from "./network";

/**
 * MongoDB through the Percona Operator for MongoDB: the operator (a Helm release watching only its
 * namespace) and a replica set (`PerconaServerMongoDB`) with its secrets, backups, metrics and
 * network policies. Nothing here knows about DiaspoMoney's environments: callers pass names, sizes,
 * peers and secrets.
 */

export interface ContainerResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** A set of pods allowed to talk to another: the namespace they run in and their labels. */
export interface PodPeer {
  namespace: pulumi.Input<string>;
  podLabels: Record<string, string>;
}


export const MONGODB_PORT = 27017;
export const MONGODB_EXPORTER_PORT = 9216;
/** The replica set of an unsharded cluster, and the first shard of a sharded one. */
export const REPLSET_NAME = "rs0";
/** The config servers' replica set, as the operator names it (fixed). */
export const CONFIG_REPLSET_NAME = "cfg";
/** Finalizer that deletes the volumes with the cluster: never set by this component. */
export const DELETE_PVC_FINALIZER = "percona.com/delete-psmdb-pvc";
/** Finalizer that deletes point-in-time oplog chunks from the backup storage with the cluster: never set. */
export const DELETE_PITR_FINALIZER = "percona.com/delete-pitr-chunks";

/** Labels the operator puts on the mongod pods of `cluster` (its `naming.MongodLabels`). */
export function mongodPodLabels(cluster: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "percona-server-mongodb",
    "app.kubernetes.io/instance": cluster,
    "app.kubernetes.io/replset": REPLSET_NAME,
    "app.kubernetes.io/component": "mongod",
  };
}

/** Labels on every pod of `cluster`: members of every shard, config servers and mongos (`naming.ClusterLabels`). */
export function mongoClusterPodLabels(cluster: string): Record<string, string> {
  return { "app.kubernetes.io/name": "percona-server-mongodb", "app.kubernetes.io/instance": cluster };
}

/** Labels the operator puts on the mongos pods of `cluster` (its `naming.MongosLabels`). */
export function mongosPodLabels(cluster: string): Record<string, string> {
  return { ...mongoClusterPodLabels(cluster), "app.kubernetes.io/component": "mongos" };
}

/** Labels on every database pod any PerconaServerMongoDB creates (its `naming.ClusterLabels`). */
const anyPerconaMongoPod = { "app.kubernetes.io/managed-by": "percona-server-mongodb-operator" };

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  privileged: false,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};


function peerSelector(peer: PodPeer): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
    podSelector: { matchLabels: peer.podLabels },
  };
}

// ---------------------------------------------------------------------------------------------------
// Operator

export interface PerconaMongoOperatorArgs {
  /** Namespace the operator runs in and the only one it watches (a namespaced Role, no ClusterRole). */
  namespace: pulumi.Input<string>;
  /** Helm chart `psmdb-operator`: name, repository and pinned version. */
  chart: { chart: string; repo: string; version: string };
  /** Operator image `registry/repository:tag`. */
  image: string;
  /**
   * Install the chart. False where the cluster's owners install the operator themselves (same chart
   * and release name) into this namespace. Never its CRDs: the cluster stack owns them.
   */
  installChart: boolean;
  /**
   * Labels added to the operator's objects and pod, besides the chart's own. Keys the chart sets
   * itself (`app.kubernetes.io/name`, `instance`, `version`, `managed-by`) are dropped: a duplicate
   * key would make the rendered manifest invalid.
   */
  labels: Record<string, string>;
  /** Helm release name. Default `psmdb-operator`. */
  releaseName?: string;
  /** Default: {@link PSMDB_OPERATOR_RESOURCES}. */
  resources?: ContainerResources;
  /** Where the API server is, for the operator's egress policy. */
  apiServer?: ApiServerAccess;
  /** Wait for the operator to be ready, rolling back a failed install (see `helmReleaseAwait`). Default true. */
  awaitReadiness?: boolean;
}

/** The operator's container. */
export const PSMDB_OPERATOR_RESOURCES: ContainerResources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

const chartOwnedLabels = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"];

/** The Helm values of the operator release: watches its namespace only, hardened, no telemetry, no secret. */
export function operatorValues(args: PerconaMongoOperatorArgs): Record<string, unknown> {
  const [repository, tag] = splitImage(args.image);
  const extraLabels = Object.fromEntries(Object.entries(args.labels).filter(([k]) => !chartOwnedLabels.includes(k)));
  return {
    image: { repository, tag, pullPolicy: "IfNotPresent" },
    // Empty watchNamespace and watchAllNamespaces false: the chart creates a Role in the release
    // namespace and the operator watches only it.
    watchAllNamespaces: false,
    rbac: { create: true },
    serviceAccount: { create: true },
    // Telemetry sends cluster details to Percona: off (GDPR, and no egress to allow).
    disableTelemetry: true,
    labels: extraLabels,
    podLabels: extraLabels,
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    // readOnlyRootFilesystem makes the chart mount an emptyDir on /tmp.
    securityContext: { ...restrictedContainer, readOnlyRootFilesystem: true },
    resources: args.resources ?? PSMDB_OPERATOR_RESOURCES,
    logStructured: true,
  };
}

function splitImage(image: string): [string, string] {
  const at = image.lastIndexOf(":");
  if (at <= image.lastIndexOf("/")) throw new Error(`image "${image}" has no tag: pin it as repository:tag`);
  return [image.slice(0, at), image.slice(at + 1)];
}

/**
 * The Percona Operator for MongoDB, installed with `helm.v3.Release`.
 *
 * Why a Release rather than `helm.v4.Chart`: the chart ships its CRDs in `crds/`, which Helm installs
 * once and never deletes. With `helm.v4.Chart` the CRDs would be Pulumi resources of the stack that
 * installs them, and destroying that stack (dev, on the shared non-production cluster) would delete
 * the CRDs and, with them, every PerconaServerMongoDB of the cluster, rct's included. The Release also
 * rolls back atomically on a failed upgrade. Its usual drawback (values stored in clear in the state,
 * pulumi-kubernetes#2003) does not apply: the values hold no secret. `@pulumi/kubernetes` ≥ 4.32
 * reads a Release's CRDs at preview, so the custom resources that depend on it preview on an empty
 * cluster.
 */
export class PerconaMongoOperator extends pulumi.ComponentResource {
  readonly release?: k8s.helm.v3.Release;
  readonly egressPolicy: k8s.networking.v1.NetworkPolicy;
  /** Labels of the operator pod, as the chart sets them: for other pods' ingress rules. */
  readonly podLabels: Record<string, string>;

  constructor(name: string, args: PerconaMongoOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:data:PerconaMongoOperator", name, {}, opts);
    const releaseName = args.releaseName ?? "psmdb-operator";
    this.podLabels = { "app.kubernetes.io/name": args.chart.chart, "app.kubernetes.io/instance": releaseName };

    this.release = args.installChart
      ? new k8s.helm.v3.Release(
          name,
          {
            name: releaseName,
            namespace: args.namespace,
            chart: args.chart.chart,
            version: args.chart.version,
            repositoryOpts: { repo: args.chart.repo },
            skipCrds: true,
            createNamespace: false,
            ...helmReleaseAwait(args.awaitReadiness),
            cleanupOnFail: true,
            maxHistory: 10,
            values: operatorValues(args),
          },
          { parent: this },
        )
      : undefined;

    // The operator talks to the API server and to the database pods it manages (replica set
    // configuration, users, backups). Its own ingress stays closed by the namespace's default deny.
    this.egressPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-egress`,
      {
        metadata: { name: releaseName, namespace: args.namespace, labels: { ...args.labels, "app.kubernetes.io/name": releaseName } },
        spec: {
          podSelector: { matchLabels: this.podLabels },
          policyTypes: ["Egress"],
          egress: [
            ...apiServerEgress(args.apiServer),
            { to: [{ podSelector: { matchLabels: anyPerconaMongoPod } }], ports: [{ protocol: "TCP", port: MONGODB_PORT }] },
          ],
        },
      },
      { parent: this },
    );
    ciliumClusterAccess(
      `${name}-cluster-access`,
      {
        metadata: { name: `${releaseName}-cluster-access`, namespace: args.namespace, labels: { ...args.labels, "app.kubernetes.io/name": releaseName } },
        podSelector: { matchLabels: this.podLabels },
        access: { apiServer: true },
        api: args.apiServer,
      },
      { parent: this },
    );

    this.registerOutputs({
      releaseName,
      chartVersion: args.chart.version,
      image: args.image,
      chartInstalled: args.installChart,
      watchedNamespace: args.namespace,
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Replica set

export interface MongoBackupArgs {
  /** S3 bucket, its region and https endpoint. */
  bucket: string;
  region: string;
  endpointUrl: string;
  /** Key prefix inside the bucket. Default: the cluster name. */
  prefix?: string;
  accessKeyId: pulumi.Input<string>;
  secretAccessKey: pulumi.Input<string>;
  /** Five-field cron of the daily backup. */
  schedule: string;
  /** How many backups are kept; older ones are deleted from the storage too. */
  keep: number;
  /** Continuous oplog upload for point-in-time recovery. */
  pointInTimeRecovery: boolean;
  /** S3 server-side encryption of the backup objects. Default `AES256`. */
  serverSideEncryption?: "AES256" | "aws:kms";
  /**
   * Where the backup agent may connect on 443. Default: any public address (the private ranges,
   * and with them the cloud metadata endpoint, are excluded).
   */
  egress?: k8s.types.input.networking.v1.IPBlock[];
}

export interface MongoAppUserArgs {
  /** User name; created in `database`, with `readWrite` on it and nothing else. */
  name: string;
  database: string;
}

export interface MongoReplicaSetArgs {
  namespace: pulumi.Input<string>;
  /** Labels put on every object this component creates (`app.kubernetes.io/name` is set per object). */
  labels: Record<string, string>;
  /** `spec.crVersion`: the operator version the resource is written for. */
  crVersion: string;
  images: { mongod: string; backup: string; exporter: string; init: string };
  /** Replica set members: 1 (development only, the operator's unsafe flag is set) or an odd number ≥ 3. */
  members: number;
  /** Size of each member's volume, e.g. `200Gi`. */
  storage: string;
  /** StorageClass of the volumes. Default: the cluster's default class. */
  storageClassName?: string;
  resources: ContainerResources;
  appUser: MongoAppUserArgs;
  backup: MongoBackupArgs;
  /** Pods allowed to connect on 27017 (the application). */
  clients: PodPeer[];
  /** Pods allowed to scrape the exporter on 9216 (Prometheus). */
  metricsScrapers: PodPeer[];
  /** Labels of the operator pod, allowed on 27017. */
  operatorPodLabels: Record<string, string>;
  /**
   * The operator installation (its release and its network policy): the custom resource waits for it
   * (its CRD and controller), and is deleted before it, since the operator clears its finalizer.
   */
  operator?: pulumi.Resource;
  /**
   * Options for what holds or unlocks the data (the custom resource, the encryption key and its
   * generator, the users Secret): `protect` and `retainOnDelete` in production.
   */
  stateful?: Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete">;
  /** Cluster DNS suffix. Default `svc.cluster.local`. */
  clusterDomain?: string;
  /**
   * Certificates of the members (the one clients see and the one members authenticate each other
   * with) from a cert-manager issuer the caller owns, so that clients can verify the server against
   * that issuer's CA. Default: the operator asks cert-manager for a CA of its own, created in the
   * cluster at runtime and known to nobody outside this namespace.
   */
  tls?: IssuedTls;
  /** Path of the CA file in the application's pods, added to its URI as `tlsCAFile`. Default: none. */
  appCaFile?: string;
  /** Topology key of the zone spread. Default `topology.kubernetes.io/zone`. */
  zoneKey?: string;
  /** Resources of the exporter sidecar. Default: {@link MONGODB_EXPORTER_RESOURCES}. */
  exporterResources?: ContainerResources;
  /** Resources of the backup agent sidecar. Default: {@link MONGODB_BACKUP_AGENT_RESOURCES}. */
  backupResources?: ContainerResources;
  /** Make `pulumi up` wait for the replica set (and its certificates) to be ready (see `awaitAnnotations`). Default true. */
  awaitReadiness?: boolean;
  /**
   * A sharded cluster: `shards` replica sets of `members` each (`rs0`, `rs1`...), a config-server
   * replica set and mongos routers, each spread, budgeted, on TLS, backed up and with the exporter;
   * the app's URI then goes through mongos. Default: one replica set.
   */
  sharding?: MongoShardingArgs;
}

export interface MongoShardingArgs {
  shards: number;
  /** Config-server replica set members: 1 (development, unsafe flag) or an odd number ≥ 3. */
  configServers: number;
  /** mongos routers (stateless). */
  mongos: number;
  /** Default: the members' `storage`. */
  configServerStorage?: string;
  /** Default: the members' `resources`. */
  configServerResources?: ContainerResources;
  /** Default: the members' `resources`. */
  mongosResources?: ContainerResources;
}

/** The topology of a cluster: its shards' replica sets (one, unsharded), config servers and routers. */
export interface MongoTopology {
  replsets: string[];
  members: number;
  configServers?: number;
  mongos?: number;
  /** The operator's explicit flag for a replica set (shard or config servers) under 3 members. */
  unsafeReplsetSize: boolean;
}

/** The topology `members` and `sharding` describe; rejects even replica sets and empty tiers. */
export function mongoTopology(members: number, sharding?: MongoShardingArgs): MongoTopology {
  const { size, unsafeReplsetSize } = replsetSizing(members);
  if (!sharding) return { replsets: [REPLSET_NAME], members: size, unsafeReplsetSize };
  const cfg = replsetSizing(sharding.configServers);
  if (!Number.isInteger(sharding.shards) || sharding.shards < 1) throw new Error(`MongoDB sharded cluster of ${sharding.shards} shards: at least 1`);
  if (!Number.isInteger(sharding.mongos) || sharding.mongos < 1) throw new Error(`MongoDB sharded cluster with ${sharding.mongos} mongos: at least 1`);
  return {
    replsets: Array.from({ length: sharding.shards }, (_, i) => `rs${i}`),
    members: size,
    configServers: cfg.size,
    mongos: sharding.mongos,
    unsafeReplsetSize: unsafeReplsetSize || cfg.unsafeReplsetSize,
  };
}

/** The `mongodb_exporter` sidecar of each member. */
export const MONGODB_EXPORTER_RESOURCES: ContainerResources = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } };
/** The backup agent (`pbm-agent`) the operator adds to each member. */
export const MONGODB_BACKUP_AGENT_RESOURCES: ContainerResources = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } };

/** Replica set size and whether the operator's explicit unsafe flag is needed; rejects even sizes. */
export function replsetSizing(members: number): { size: number; unsafeReplsetSize: boolean } {
  if (!Number.isInteger(members) || members < 1 || (members > 1 && members % 2 === 0)) {
    throw new Error(`MongoDB replica set of ${members} members: use 1 (development) or an odd number of at least 3`);
  }
  return { size: members, unsafeReplsetSize: members < 3 };
}

/** `host:port` of each member, through the per-pod DNS names of the operator's headless Service. */
export function memberHosts(cluster: string, namespace: string, members: number, clusterDomain = "svc.cluster.local"): string[] {
  const service = `${cluster}-${REPLSET_NAME}`;
  return Array.from({ length: members }, (_, i) => `${service}-${i}.${service}.${namespace}.${clusterDomain}:${MONGODB_PORT}`);
}

export interface MongoUriParts {
  username: string;
  password: string;
  hosts: string[];
  database: string;
  replicaSet: string;
  /** Database the user is defined in. */
  authSource: string;
  /** CA file the driver verifies the server with. Default: the system's trust store. */
  tlsCAFile?: string;
}

/** A `mongodb://` URI with TLS on; user, password and options are percent-encoded. No `replicaSet` through mongos. */
export function mongodbUri(p: Omit<MongoUriParts, "replicaSet"> & { replicaSet?: string }): string {
  const query = new URLSearchParams({ ...(p.replicaSet ? { replicaSet: p.replicaSet } : {}), authSource: p.authSource, tls: "true", ...(p.tlsCAFile ? { tlsCAFile: p.tlsCAFile } : {}) });
  return `mongodb://${encodeURIComponent(p.username)}:${encodeURIComponent(p.password)}@${p.hosts.join(",")}/${encodeURIComponent(p.database)}?${query}`;
}

/** System users the operator needs, by the key prefix it reads in the users Secret. */
const systemUsers = {
  MONGODB_BACKUP: "backup",
  MONGODB_CLUSTER_ADMIN: "clusterAdmin",
  MONGODB_CLUSTER_MONITOR: "clusterMonitor",
  MONGODB_DATABASE_ADMIN: "databaseAdmin",
  MONGODB_USER_ADMIN: "userAdmin",
} as const;

/**
 * Names the members' certificates must hold, as the operator itself would issue them
 * (`GetCertificateSans`, without sharding): localhost for the sidecars, the replica set's headless
 * Service, and each member through it, with and without the cluster domain.
 */
export function memberCertificateDnsNames(
  cluster: string,
  namespace: string,
  clusterDomain = "svc.cluster.local",
  topology: Pick<MongoTopology, "replsets" | "mongos"> = { replsets: [REPLSET_NAME] },
): string[] {
  // Sharded, the same certificates serve every shard, the config servers and mongos (as the operator's do).
  const services = [
    ...topology.replsets.map((rs) => `${cluster}-${rs}`),
    ...(topology.mongos !== undefined ? [`${cluster}-${CONFIG_REPLSET_NAME}`, `${cluster}-mongos`] : []),
  ];
  const domains = services.flatMap((service) => [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.${clusterDomain}`]);
  return ["localhost", ...new Set([...domains, ...domains.map((d) => `*.${d}`)])];
}

/** `host:port` of the mongos Service the app connects through, in a sharded cluster. */
export function mongosHost(cluster: string, namespace: string, clusterDomain = "svc.cluster.local"): string {
  return `${cluster}-mongos.${namespace}.${clusterDomain}:${MONGODB_PORT}`;
}

/** The mongod configuration passed through `replsets[].configuration`. */
export function mongodConfiguration(): string {
  return [
    "security:",
    "  enableEncryption: true",
    // The seed's at-rest cipher; Percona's default is AES256-CBC. Cannot change once data exists.
    "  encryptionCipherMode: AES256-GCM",
    "net:",
    "  tls:",
    // Clients authenticate with SCRAM over TLS and verify the server; they bring no certificate.
    "    allowConnectionsWithoutCertificates: true",
    "",
  ].join("\n");
}

/**
 * A Percona Server for MongoDB replica set, with everything it needs: a generated encryption key,
 * generated passwords for the operator's system users and for an application user limited to one
 * database, TLS required everywhere (certificates from the caller's issuer, or from the operator's),
 * scheduled backups to S3 with a retention count and optional point-in-time recovery, a
 * `mongodb_exporter` sidecar, anti-affinity, a disruption budget, and the network policies of its pods.
 */
export class MongoReplicaSet extends pulumi.ComponentResource {
  readonly cluster: k8s.apiextensions.CustomResource;
  readonly encryptionKeySecret: k8s.core.v1.Secret;
  readonly usersSecret: k8s.core.v1.Secret;
  readonly appUserSecret: k8s.core.v1.Secret;
  readonly backupCredentials: k8s.core.v1.Secret;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  /** What clients wait for: the replica set, awaited until the operator reports it ready. */
  readonly ready: pulumi.Resource[];
  /** The members' Certificates (client-facing, then member authentication), when `tls` is given. */
  readonly certificates: k8s.apiextensions.CustomResource[];
  /** Connection string of the application user (a Pulumi secret). */
  readonly appUri: pulumi.Output<string>;
  /** Labels of the mongod pods (for monitors and policies). */
  readonly podLabels: Record<string, string>;
  readonly port: number;
  readonly metricsPort: number;

  constructor(name: string, args: MongoReplicaSetArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything: a wrong size must not leave half a component behind.
    const topology = mongoTopology(args.members, args.sharding);
    const { members: size, unsafeReplsetSize } = topology;
    const sharded = args.sharding !== undefined;
    super("diaspomoney:data:MongoReplicaSet", name, {}, opts);
    this.port = MONGODB_PORT;
    this.metricsPort = MONGODB_EXPORTER_PORT;
    const stateful = { parent: this, ...(args.stateful ?? {}) };
    const child = { parent: this };
    const meta = (objectName: string) => ({
      name: objectName,
      namespace: args.namespace,
      labels: { ...args.labels, "app.kubernetes.io/name": objectName },
    });
    // Sharded, every pod of the cluster (shards, config servers, mongos) is a member of the same policy and monitor.
    this.podLabels = sharded ? mongoClusterPodLabels(name) : mongodPodLabels(name);
    const names = {
      users: `${name}-users`,
      encryptionKey: `${name}-encryption-key`,
      ssl: `${name}-ssl`,
      sslInternal: `${name}-ssl-internal`,
      appUser: `${name}-app-user`,
      backup: `${name}-backup-s3`,
    };

    // 32 random bytes, base64: the key file format mongod's local key management expects. Losing it
    // makes the data files (and physical backups) unreadable, hence the stateful options.
    const key = new random.RandomBytes(`${name}-encryption-key`, { length: 32 }, stateful);
    this.encryptionKeySecret = new k8s.core.v1.Secret(
      `${name}-encryption-key`,
      { metadata: meta(names.encryptionKey), type: "Opaque", stringData: { "encryption-key": key.base64 } },
      stateful,
    );

    const passwordOf = (id: string) =>
      new random.RandomPassword(`${name}-${id}`, { length: 32, special: false }, child).result;
    const users: Record<string, pulumi.Input<string>> = {};
    for (const [prefix, user] of Object.entries(systemUsers)) {
      users[`${prefix}_USER`] = user;
      users[`${prefix}_PASSWORD`] = passwordOf(`${user.toLowerCase()}-password`);
    }
    this.usersSecret = new k8s.core.v1.Secret(`${name}-users`, { metadata: meta(names.users), type: "Opaque", stringData: users }, stateful);

    const appPassword = passwordOf("app-password");
    this.appUserSecret = new k8s.core.v1.Secret(
      `${name}-app-user`,
      { metadata: meta(names.appUser), type: "Opaque", stringData: { password: appPassword } },
      child,
    );

    this.backupCredentials = new k8s.core.v1.Secret(
      `${name}-backup-s3`,
      {
        metadata: meta(names.backup),
        type: "Opaque",
        stringData: { AWS_ACCESS_KEY_ID: args.backup.accessKeyId, AWS_SECRET_ACCESS_KEY: args.backup.secretAccessKey },
      },
      child,
    );

    // The operator leaves alone TLS Secrets it did not create (cert-manager Secrets included, when
    // their issuer is not its own), so these must exist before the PerconaServerMongoDB does: until
    // then the operator would issue its own certificates under the same names. Their await annotations
    // holds the custom resource back until cert-manager has written both.
    this.certificates = args.tls
      ? [
          { secretName: names.ssl, purpose: "server" },
          { secretName: names.sslInternal, purpose: "member" },
        ].map(({ secretName, purpose }) => {
          const tls = args.tls!;
          return new k8s.apiextensions.CustomResource(
            `${name}-${purpose}-certificate`,
            {
              apiVersion: "cert-manager.io/v1",
              kind: "Certificate",
              metadata: { ...meta(secretName), annotations: awaitAnnotations("Certificate", args.awaitReadiness) },
              spec: pulumi.output(args.namespace).apply((ns) =>
                leafCertificateSpec({
                  secretName,
                  issuer: tls.issuer,
                  commonName: name,
                  // Members authenticate each other with x509: mongod takes a peer for a member when
                  // its subject carries the same O/OU/DC as its own, so both certificates carry one,
                  // as the operator's own do, and nothing else we issue does.
                  organizations: ["PSMDB"],
                  dnsNames: memberCertificateDnsNames(name, ns, args.clusterDomain, topology),
                  // Members and the operator connect as clients with these same certificates.
                  usages: ["server auth", "client auth", "digital signature"],
                  duration: tls.duration,
                  renewBefore: tls.renewBefore,
                  secretLabels: { ...args.labels, "app.kubernetes.io/name": secretName },
                }),
              ),
            },
            { parent: this, dependsOn: tls.after ?? [] },
          );
        })
      : [];

    const exporterResources = args.exporterResources ?? MONGODB_EXPORTER_RESOURCES;
    const backupResources = args.backupResources ?? MONGODB_BACKUP_AGENT_RESOURCES;
    const secretEnv = (envName: string, keyName: string) => ({ name: envName, valueFrom: { secretKeyRef: { name: names.users, key: keyName } } });
    const exporterTlsDir = "/etc/mongodb-exporter/tls";
    const exporter = {
      name: "mongodb-exporter",
      image: args.images.exporter,
      args: [
        // mongod requires TLS on every connection, localhost included; the member certificate names localhost.
        `--mongodb.uri=mongodb://localhost:${MONGODB_PORT}/admin?tls=true&tlsCAFile=${exporterTlsDir}/ca.crt`,
        `--web.listen-address=:${MONGODB_EXPORTER_PORT}`,
        "--collect-all",
        "--compatible-mode",
      ],
      env: [secretEnv("MONGODB_USER", "MONGODB_CLUSTER_MONITOR_USER"), secretEnv("MONGODB_PASSWORD", "MONGODB_CLUSTER_MONITOR_PASSWORD")],
      ports: [{ name: "metrics", containerPort: MONGODB_EXPORTER_PORT, protocol: "TCP" }],
      resources: exporterResources,
      securityContext: { ...restrictedContainer, readOnlyRootFilesystem: true },
      volumeMounts: [{ name: "exporter-tls", mountPath: exporterTlsDir, readOnly: true }],
    };

    const zoneKey = args.zoneKey ?? "topology.kubernetes.io/zone";
    const zoneSpread = (labels: Record<string, string>) => ({
      maxSkew: 1,
      topologyKey: zoneKey,
      // Soft: a cluster with fewer zones than members must still schedule the replica set.
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: labels },
    });
    const podSecurityContext = { runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, fsGroup: 1001, seccompProfile: { type: "RuntimeDefault" } };
    const sidecarVolumes = [{ name: "exporter-tls", secret: { secretName: names.ssl, items: [{ key: "ca.crt", path: "ca.crt" }] } }];
    /** One replica set (a shard, or the config servers): spread over nodes and zones, budgeted, encrypted, exported. */
    const replset = (rsName: string, members: number, resources: ContainerResources, storage: string) => ({
      name: rsName,
      size: members,
      configuration: mongodConfiguration(),
      affinity: { antiAffinityTopologyKey: "kubernetes.io/hostname" },
      // Each replica set spread on its own: the members of one shard in different zones.
      topologySpreadConstraints: [
        zoneSpread({
          ...mongoClusterPodLabels(name),
          "app.kubernetes.io/replset": rsName,
          ...(rsName === CONFIG_REPLSET_NAME ? {} : { "app.kubernetes.io/component": "mongod" }),
        }),
      ],
      podDisruptionBudget: { maxUnavailable: 1 },
      resources,
      volumeSpec: {
        persistentVolumeClaim: {
          ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage } },
        },
      },
      podSecurityContext,
      // The mongod image writes outside its data volume at start: no read-only root filesystem.
      containerSecurityContext: restrictedContainer,
      sidecars: [exporter],
      sidecarVolumes,
      expose: { enabled: false },
    });
    const configServers = () => {
      const { name: _fixed, ...spec } = replset(
        CONFIG_REPLSET_NAME,
        topology.configServers!,
        args.sharding!.configServerResources ?? args.resources,
        args.sharding!.configServerStorage ?? args.storage,
      );
      return spec;
    };
    const retention = { type: "count", count: args.backup.keep, deleteFromStorage: true };
    const clusterSpec = {
      crVersion: args.crVersion,
      image: args.images.mongod,
      initImage: args.images.init,
      imagePullPolicy: "IfNotPresent",
      // Images are pinned here; the operator must not upgrade them behind the plan's back.
      upgradeOptions: { apply: "disabled" },
      updateStrategy: "SmartUpdate",
      ...(unsafeReplsetSize ? { unsafeFlags: { replsetSize: true } } : {}),
      secrets: { users: names.users, encryptionKey: names.encryptionKey, ssl: names.ssl, sslInternal: names.sslInternal },
      // No issuerConf: operator 1.22 reads only its name and still signs with the CA it creates (a
      // ClusterIssuer there arrives with 1.23). With `tls`, the Secrets above are the certificates;
      // without, the operator asks cert-manager for a CA and the certificates, and renews them.
      tls: { mode: "requireTLS", allowInvalidCertificates: false, ...(args.tls ? {} : { certValidityDuration: "2160h" }) },
      initContainerSecurityContext: restrictedContainer,
      replsets: topology.replsets.map((rs) => replset(rs, size, args.resources, args.storage)),
      sharding: args.sharding
        ? {
            enabled: true,
            balancer: { enabled: true },
            configsvrReplSet: configServers(),
            mongos: {
              size: topology.mongos,
              affinity: { antiAffinityTopologyKey: "kubernetes.io/hostname" },
              topologySpreadConstraints: [zoneSpread(mongosPodLabels(name))],
              podDisruptionBudget: { maxUnavailable: 1 },
              resources: args.sharding.mongosResources ?? args.resources,
              podSecurityContext,
              containerSecurityContext: restrictedContainer,
              sidecars: [exporter],
              sidecarVolumes,
              // Inside the cluster only: the app is the one client.
              expose: { type: "ClusterIP" },
            },
          }
        : { enabled: false },
      users: [
        {
          name: args.appUser.name,
          db: args.appUser.database,
          passwordSecretRef: { name: names.appUser, key: "password" },
          roles: [{ name: "readWrite", db: args.appUser.database }],
        },
      ],
      backup: {
        enabled: true,
        image: args.images.backup,
        resources: backupResources,
        containerSecurityContext: restrictedContainer,
        storages: {
          s3: {
            type: "s3",
            main: true,
            s3: {
              bucket: args.backup.bucket,
              region: args.backup.region,
              endpointUrl: args.backup.endpointUrl,
              prefix: args.backup.prefix ?? name,
              credentialsSecret: names.backup,
              serverSideEncryption: { sseAlgorithm: args.backup.serverSideEncryption ?? "AES256" },
              insecureSkipTLSVerify: false,
            },
          },
        },
        pitr: { enabled: args.backup.pointInTimeRecovery, oplogSpanMin: 10 },
        tasks: [{ name: "daily", enabled: true, schedule: args.backup.schedule, storageName: "s3", type: "logical", retention }],
      },
    };

    const backupEgress = args.backup.egress ?? PUBLIC_IP_BLOCKS;
    const members = { podSelector: { matchLabels: this.podLabels } };
    // Before the custom resource, and deleted after it: the operator reaches the members to shut them
    // down in order (its finalizer) and to form the replica set.
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-network`,
      {
        metadata: meta(name),
        spec: {
          // Sharded, the data-bearing pods (shards, config servers); the routers have their own policy below.
          podSelector: sharded
            ? { matchLabels: this.podLabels, matchExpressions: [{ key: "app.kubernetes.io/component", operator: "NotIn", values: ["mongos"] }] }
            : { matchLabels: this.podLabels },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            // Sharded, clients reach mongos only, never a shard directly.
            ...(sharded ? [] : [{ from: args.clients.map(peerSelector), ports: [{ protocol: "TCP", port: MONGODB_PORT }] }]),
            { from: [members, { podSelector: { matchLabels: args.operatorPodLabels } }], ports: [{ protocol: "TCP", port: MONGODB_PORT }] },
            { from: args.metricsScrapers.map(peerSelector), ports: [{ protocol: "TCP", port: MONGODB_EXPORTER_PORT }] },
          ],
          egress: [
            { to: [members], ports: [{ protocol: "TCP", port: MONGODB_PORT }] },
            // The backup agent (a container of each member) uploads to S3.
            { to: backupEgress.map((ipBlock) => ({ ipBlock })), ports: [{ protocol: "TCP", port: 443 }] },
          ],
        },
      },
      child,
    );
    const mongosPolicy = sharded
      ? [
          new k8s.networking.v1.NetworkPolicy(
            `${name}-mongos-network`,
            {
              metadata: meta(`${name}-mongos`),
              spec: {
                podSelector: { matchLabels: mongosPodLabels(name) },
                policyTypes: ["Ingress", "Egress"],
                ingress: [
                  { from: [...args.clients.map(peerSelector), members, { podSelector: { matchLabels: args.operatorPodLabels } }], ports: [{ protocol: "TCP", port: MONGODB_PORT }] },
                  { from: args.metricsScrapers.map(peerSelector), ports: [{ protocol: "TCP", port: MONGODB_EXPORTER_PORT }] },
                ],
                egress: [{ to: [members], ports: [{ protocol: "TCP", port: MONGODB_PORT }] }],
              },
            },
            child,
          ),
        ]
      : [];

    this.cluster = new k8s.apiextensions.CustomResource(
      `${name}-cluster`,
      {
        apiVersion: "psmdb.percona.com/v1",
        kind: "PerconaServerMongoDB",
        metadata: {
          ...meta(name),
          annotations: awaitAnnotations("PerconaServerMongoDB", args.awaitReadiness),
          // Ordered pod shutdown on delete, and nothing else: the volumes and the PITR chunks stay
          // (no delete-psmdb-pvc, no delete-pitr-chunks).
          finalizers: ["percona.com/delete-psmdb-pods-in-order"],
        },
        spec: clusterSpec,
      },
      {
        ...stateful,
        dependsOn: [
          ...(args.operator ? [args.operator] : []),
          this.encryptionKeySecret,
          this.usersSecret,
          this.appUserSecret,
          this.backupCredentials,
          ...this.certificates,
          this.networkPolicy,
          ...mongosPolicy,
        ],
      },
    );
    this.ready = [this.cluster];

    // Sharded, the app talks to the routers' Service; otherwise to every member of the replica set.
    const hosts = pulumi
      .output(args.namespace)
      .apply((ns) => (sharded ? [mongosHost(name, ns, args.clusterDomain)] : memberHosts(name, ns, size, args.clusterDomain)));
    this.appUri = pulumi.secret(
      pulumi.all([hosts, appPassword]).apply(([h, password]) =>
        mongodbUri({
          username: args.appUser.name,
          password,
          hosts: h,
          database: args.appUser.database,
          replicaSet: sharded ? undefined : REPLSET_NAME,
          authSource: args.appUser.database,
          tlsCAFile: args.appCaFile,
        }),
      ),
    );

    this.registerOutputs({
      name,
      members: size,
      topology: sharded ? { shards: topology.replsets, configServers: topology.configServers, mongos: topology.mongos } : { replicaSet: REPLSET_NAME },
      unsafeReplsetSize,
      tlsMode: "requireTLS",
      tlsIssuer: args.tls ? args.tls.issuer : "operator",
      encryptionAtRest: { enabled: true, cipher: "AES256-GCM", keySecret: names.encryptionKey },
      backup: {
        schedule: args.backup.schedule,
        keep: args.backup.keep,
        pointInTimeRecovery: args.backup.pointInTimeRecovery,
        bucket: args.backup.bucket,
        endpoint: args.backup.endpointUrl,
      },
      metrics: { port: MONGODB_EXPORTER_PORT, podLabels: this.podLabels },
      appUser: { name: args.appUser.name, database: args.appUser.database, roles: ["readWrite"] },
      appUri: this.appUri,
    });
  }
}
