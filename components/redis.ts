import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { leafCertificateSpec, type IssuedTls } from "./internal-ca";
import { AWAIT_ANNOTATION, awaitAnnotations, checksum, checksumAnnotations, helmReleaseAwait } from "./lifecycle";
import { chartPodLabels, type PinnedChart } from "./kafka";
import { apiServerEgress, ciliumClusterAccess, tcp, type ApiServerAccess } from "./network";
import type { ContainerResources } from "./namespaces";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Labels = (name: string, component?: string) => Record<string, string>;


/** The label the chart's Deployment selects the operator pod by (`redisOperator.name`). */
export const REDIS_OPERATOR_POD_LABELS = { name: "redis-operator" } as const;
/** Redis client port, cluster bus port (client port + 10000) and the exporter's metrics port. */
export const REDIS_PORTS = { client: 6379, bus: 16379, exporter: 9121 } as const;

/** Non-root, no privilege escalation, no capability, runtime seccomp: what `restricted` asks. */
const restrictedContainer = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};

// ---------------------------------------------------------------------------------------------------
// Operator
// ---------------------------------------------------------------------------------------------------

export interface RedisOperatorArgs {
  /** Namespace the operator is installed into; it watches only this namespace. */
  namespace: pulumi.Input<string>;
  chart: PinnedChart;
  /** The operator image, from the operator's own registry. */
  image: { repository: string; tag: string };
  labels: Labels;
  /**
   * Install the chart. False where the cluster's owners install the operator themselves (same chart
   * and release name) into this namespace. Never its CRDs: the cluster stack owns them.
   */
  installChart: boolean;
  /** Default: {@link REDIS_OPERATOR_RESOURCES}. */
  resources?: ContainerResources;
  apiServer?: ApiServerAccess;
  /** Wait for the operator to be ready, rolling back a failed install (see `helmReleaseAwait`). Default true. */
  awaitReadiness?: boolean;
}

/** The operator's container. */
export const REDIS_OPERATOR_RESOURCES: ContainerResources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

/**
 * OT-Container-Kit's redis-operator, watching only its namespace with namespace-scoped RBAC (a Role,
 * not the chart's default ClusterRole, whose fixed name two installations in one cluster would share).
 * `helm.v3.Release` for the same reason as Strimzi's (see `StrimziOperator`): CRDs in `crds/`, never
 * deleted with the stack that installed them. The webhook, the only part needing cert-manager, stays off.
 */
export class RedisOperator extends pulumi.ComponentResource {
  readonly release?: k8s.helm.v3.Release;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: RedisOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:data:RedisOperator", name, {}, opts);

    this.release = args.installChart
      ? new k8s.helm.v3.Release(
          name,
          {
            name: "redis-operator",
            chart: args.chart.chart,
            version: args.chart.version,
            ...(args.chart.repo ? { repositoryOpts: { repo: args.chart.repo } } : {}),
            namespace: args.namespace,
            createNamespace: false,
            skipCrds: true,
            ...helmReleaseAwait(args.awaitReadiness),
            cleanupOnFail: true,
            maxHistory: 10,
            values: redisOperatorValues(args),
          },
          { parent: this },
        )
      : undefined;

    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-network`,
      {
        metadata: { name: "redis-operator", namespace: args.namespace, labels: args.labels("redis-operator", "operator") },
        spec: {
          podSelector: { matchLabels: { ...REDIS_OPERATOR_POD_LABELS } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [],
          egress: [
            ...apiServerEgress(args.apiServer),
            // The operator forms and heals the cluster with redis commands sent to each pod.
            {
              to: [{ podSelector: { matchExpressions: [{ key: "redis_setup_type", operator: "Exists" }] } }],
              ports: tcp(REDIS_PORTS.client),
            },
          ],
        },
      },
      { parent: this },
    );
    ciliumClusterAccess(
      `${name}-cluster-access`,
      {
        metadata: { name: "redis-operator-cluster-access", namespace: args.namespace, labels: args.labels("redis-operator", "operator") },
        podSelector: { matchLabels: { ...REDIS_OPERATOR_POD_LABELS } },
        access: { apiServer: true },
        api: args.apiServer,
      },
      { parent: this },
    );

    this.registerOutputs({ chartVersion: args.chart.version, image: `${args.image.repository}:${args.image.tag}`, chartInstalled: args.installChart });
  }
}

/** The chart values: no secret ever goes here. */
export function redisOperatorValues(args: Pick<RedisOperatorArgs, "namespace" | "image" | "labels" | "resources">): Record<string, unknown> {
  return {
    redisOperator: {
      imageName: args.image.repository,
      // Pinned here rather than left to the chart's appVersion, which has lagged behind releases.
      imageTag: args.image.tag,
      imagePullPolicy: "IfNotPresent",
      watchNamespace: args.namespace,
      podLabels: chartPodLabels(args.labels("redis-operator", "operator")),
      webhook: false,
    },
    rbac: { enabled: true, scope: "namespace" },
    certmanager: { enabled: false },
    resources: args.resources ?? REDIS_OPERATOR_RESOURCES,
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: { ...restrictedContainer, readOnlyRootFilesystem: true },
  };
}

// ---------------------------------------------------------------------------------------------------
// Redis Cluster
// ---------------------------------------------------------------------------------------------------

export interface RedisClusterArgs {
  namespace: pulumi.Input<string>;
  labels: Labels;
  /** Name of the `RedisCluster`. Default `redis` (Services `redis-leader`, `redis-follower`). */
  clusterName?: string;
  /** Shards. */
  leaders: number;
  followersPerLeader: number;
  /** Size of each pod's data claim. */
  storage: string;
  storageClass?: string;
  /** Redis container resources; `maxmemory` is derived from the memory limit. */
  resources: ContainerResources;
  images: { redis: string; exporter: string };
  /** Pods allowed on the client port: the application. */
  clients: Peer[];
  /** Pods allowed on the exporter port: Prometheus. */
  metricsScrapers: Peer[];
  /** Labels of the operator pods, allowed on the client port. Default {@link REDIS_OPERATOR_POD_LABELS}. */
  operatorPods?: Record<string, string>;
  /**
   * Production guard: `protect` and `retainOnDelete` on the RedisCluster. Claims are always kept,
   * both by the operator (`storage.keepAfterDelete`) and by the StatefulSets' retention policy.
   */
  protectData?: boolean;
  /**
   * The operator installation (its release and its network policy): the RedisCluster waits for it (its
   * CRD must exist first), and is deleted before it, since the operator clears its finalizer.
   */
  operator?: pulumi.Resource;
  /** Default: {@link REDIS_EXPORTER_RESOURCES}. */
  exporterResources?: ContainerResources;
  /** Make `pulumi up` wait for the cluster (and its certificate) to be ready (see `awaitAnnotations`). Default true. */
  awaitReadiness?: boolean;
  /**
   * TLS on the client port, the replication links and the cluster bus (the image then closes the
   * plain port), with a certificate from a cert-manager issuer the caller owns (Certificate and
   * Secret `<cluster>-tls`). Default: no TLS. Redis reads its certificate only at start: pods must
   * restart between a renewal and the old certificate's expiry, hence the long default lifetime.
   */
  tls?: IssuedTls;
  /** Cluster DNS suffix. Default `svc.cluster.local`. */
  clusterDomain?: string;
}

/** The exporter sidecar of each Redis pod. */
export const REDIS_EXPORTER_RESOURCES: ContainerResources = { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } };
/** Size of each pod's second claim, holding `nodes.conf` (the node's identity in the cluster). */
export const REDIS_NODE_CONF_STORAGE = "1Gi";

/** Lifetime of the Redis certificate and its renewal window: a quarter to restart the pods in. */
export const REDIS_TLS_VALIDITY = { duration: "8760h", renewBefore: "2160h" } as const;

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Bytes in a Kubernetes binary memory quantity such as `512Mi`. */
export function memoryBytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (!m) throw new Error(`"${quantity}" is not a binary memory quantity such as 512Mi`);
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * Share of the container memory limit Redis may fill. The rest is headroom for the AOF rewrite fork
 * (copy-on-write pages), replication buffers and fragmentation: past the limit the kernel kills Redis.
 */
export const MAXMEMORY_RATIO = 0.6;

/**
 * `redis-additional.conf`: AOF written every second (at most one second of writes lost on a crash),
 * and a memory bound below the container limit. `volatile-lru` evicts only keys that carry a TTL, so
 * cache entries go first and keys the app stores without expiry are never dropped silently.
 */
export function redisAdditionalConfig(memoryLimit: string, opts: { tls?: boolean } = {}): string {
  return [
    "appendonly yes",
    "appendfsync everysec",
    `maxmemory ${Math.floor(memoryBytes(memoryLimit) * MAXMEMORY_RATIO)}`,
    "maxmemory-policy volatile-lru",
    // With TLS the image announces each node by its bare pod hostname (`redis-leader-0`), which no
    // other namespace resolves; this file is read after, so nodes keep announcing their IPs and
    // clients verify the certificate against a fixed name ({@link RedisCluster.tlsServerName}).
    ...(opts.tls ? ["cluster-preferred-endpoint-type ip"] : []),
    "",
  ].join("\n");
}

/**
 * Names on the Redis certificate: every pod through its role's headless Service (what the operator
 * and the seed addresses dial), the role Services, and localhost for the exporter and the probes.
 */
export function redisCertificateDnsNames(cluster: string, namespace: string, clusterDomain = "svc.cluster.local"): string[] {
  const names = ["localhost"];
  for (const role of ["leader", "follower"]) {
    for (const service of [`${cluster}-${role}`, `${cluster}-${role}-headless`]) {
      names.push(service, `${service}.${namespace}.svc`, `${service}.${namespace}.${clusterDomain}`);
    }
    names.push(`*.${cluster}-${role}-headless.${namespace}.svc`, `*.${cluster}-${role}-headless.${namespace}.${clusterDomain}`);
  }
  return [...new Set(names)];
}

/**
 * A Redis Cluster (`redis.redis.opstreelabs.in/v1beta2`) of `leaders` shards with followers, AOF
 * persistence, a generated password, the exporter, spreading and disruption budgets per role, the
 * `restricted` Pod Security profile, and the NetworkPolicy of its pods.
 */
export class RedisCluster extends pulumi.ComponentResource {
  readonly cluster: k8s.apiextensions.CustomResource;
  readonly config: k8s.core.v1.ConfigMap;
  /** What clients wait for: the cluster, awaited until the operator reports it ready. */
  readonly ready: pulumi.Resource[];
  /** `host:port,...` seed addresses (the leaders), resolvable from any namespace. */
  readonly nodes: pulumi.Output<string>;
  readonly port: number;
  /** The cluster password, a Pulumi secret. */
  readonly password: pulumi.Output<string>;
  /** The certificate's Certificate, when `tls` is given. */
  readonly certificate?: k8s.apiextensions.CustomResource;
  /**
   * With `tls`: the name clients verify every node's certificate against (nodes are reached by IP
   * after a redirect, and all share one certificate), a name the certificate holds.
   */
  readonly tlsServerName?: pulumi.Output<string>;

  constructor(name: string, args: RedisClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:data:RedisCluster", name, {}, opts);
    const cluster = args.clusterName ?? "redis";
    const ns = args.namespace;
    const port = REDIS_PORTS.client;
    const child = { parent: this };
    const meta = (objName: string, component: string) => ({ name: objName, namespace: ns, labels: args.labels(objName, component) });

    const generated = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, child);
    this.password = pulumi.secret(generated.result);
    const secret = new k8s.core.v1.Secret(
      `${name}-password`,
      { metadata: meta(`${cluster}-password`, "credentials"), type: "Opaque", stringData: { password: this.password } },
      child,
    );

    const configData = { "redis-additional.conf": redisAdditionalConfig(args.resources.limits.memory, { tls: !!args.tls }) };
    this.config = new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: meta(`${cluster}-config`, "redis"), data: configData }, child);

    const tlsSecret = `${cluster}-tls`;
    if (args.tls) {
      const tls = args.tls;
      this.certificate = new k8s.apiextensions.CustomResource(
        `${name}-certificate`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Certificate",
          // The pods cannot start without the Secret: the RedisCluster waits for it.
          metadata: { ...meta(tlsSecret, "redis"), annotations: awaitAnnotations("Certificate", args.awaitReadiness) },
          spec: pulumi.output(ns).apply((n) =>
            leafCertificateSpec({
              secretName: tlsSecret,
              issuer: tls.issuer,
              commonName: `${cluster}-leader`,
              dnsNames: redisCertificateDnsNames(cluster, n, args.clusterDomain),
              // Nodes present it to each other on replication and the cluster bus, and the operator
              // connects with it: client auth too.
              usages: ["server auth", "client auth", "digital signature"],
              duration: tls.duration ?? REDIS_TLS_VALIDITY.duration,
              renewBefore: tls.renewBefore ?? REDIS_TLS_VALIDITY.renewBefore,
              secretLabels: args.labels(tlsSecret, "redis"),
            }),
          ),
        },
        { ...child, dependsOn: tls.after ?? [] },
      );
      this.tlsServerName = pulumi.interpolate`${cluster}-leader-headless.${ns}.svc`;
    }

    const rolePods = (role: "leader" | "follower") => ({ matchLabels: { app: `${cluster}-${role}`, redis_setup_type: "cluster" } });
    const allPods = { matchExpressions: [{ key: "app", operator: "In", values: [`${cluster}-leader`, `${cluster}-follower`] }] };
    const role = (r: "leader" | "follower", replicas: number) => ({
      replicas,
      // Every Redis pod of the cluster on its own node when possible, so that a node loss takes at
      // most one copy of a shard; and each role spread over zones.
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { labelSelector: allPods, topologyKey: "kubernetes.io/hostname" } },
          ],
        },
      },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: rolePods(r) },
      ],
      pdb: { enabled: true, maxUnavailable: 1 },
      // The operator reads extra settings per role; the cluster-level `redisConfig` is ignored for clusters.
      redisConfig: { additionalRedisConfig: this.config.metadata.name },
      // Writable root filesystem: the image's entrypoint writes /etc/redis/redis.conf at start.
      securityContext: { ...restrictedContainer, readOnlyRootFilesystem: false },
    });
    const claim = (size: string) => ({
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: size } },
        ...(args.storageClass ? { storageClassName: args.storageClass } : {}),
      },
    });

    this.cluster = new k8s.apiextensions.CustomResource(
      `${name}-cluster`,
      {
        apiVersion: "redis.redis.opstreelabs.in/v1beta2",
        kind: "RedisCluster",
        metadata: {
          ...meta(cluster, "redis"),
          annotations: {
            ...awaitAnnotations("RedisCluster", args.awaitReadiness),
            // The operator copies the RedisCluster's annotations to its StatefulSets' pod templates:
            // a change of the additional configuration (read only at start) rolls the pods.
            ...checksumAnnotations({ [`${cluster}-config`]: checksum(configData) }),
          },
        },
        spec: {
          clusterSize: args.leaders,
          clusterVersion: "v7",
          persistenceEnabled: true,
          ...(args.tls ? { TLS: { ca: "ca.crt", cert: "tls.crt", key: "tls.key", secret: { secretName: tlsSecret } } } : {}),
          podSecurityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          },
          kubernetesConfig: {
            image: args.images.redis,
            imagePullPolicy: "IfNotPresent",
            resources: args.resources,
            redisSecret: { name: secret.metadata.name, key: "password" },
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            // Pulumi's own annotations stay on the RedisCluster: copied, a change of timeout would roll the pods.
            ignoreAnnotations: Object.values(AWAIT_ANNOTATION),
          },
          redisExporter: {
            enabled: true,
            image: args.images.exporter,
            imagePullPolicy: "IfNotPresent",
            resources: args.exporterResources ?? REDIS_EXPORTER_RESOURCES,
            securityContext: { ...restrictedContainer, readOnlyRootFilesystem: true },
          },
          redisLeader: role("leader", args.leaders),
          redisFollower: role("follower", args.leaders * args.followersPerLeader),
          storage: {
            volumeClaimTemplate: claim(args.storage),
            // nodes.conf (the node's identity in the cluster) survives restarts on its own claim.
            nodeConfVolume: true,
            nodeConfVolumeClaimTemplate: claim(REDIS_NODE_CONF_STORAGE),
            keepAfterDelete: true,
          },
        },
      },
      {
        ...child,
        dependsOn: [...(args.operator ? [args.operator] : []), ...(this.certificate ? [this.certificate] : [])],
        ...(args.protectData ? { protect: true, retainOnDelete: true } : {}),
      },
    );
    this.ready = [this.cluster];

    const redisPods = { matchLabels: { redis_setup_type: "cluster" }, matchExpressions: allPods.matchExpressions };
    new k8s.networking.v1.NetworkPolicy(
      `${name}-network`,
      {
        metadata: meta(`${cluster}-nodes`, "redis"),
        spec: {
          podSelector: redisPods,
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            { from: args.clients, ports: tcp(REDIS_PORTS.client) },
            // Replication and the cluster bus stay between the cluster's own pods.
            { from: [{ podSelector: redisPods }], ports: tcp(REDIS_PORTS.client, REDIS_PORTS.bus) },
            { from: [{ podSelector: { matchLabels: args.operatorPods ?? { ...REDIS_OPERATOR_POD_LABELS } } }], ports: tcp(REDIS_PORTS.client) },
            { from: args.metricsScrapers, ports: tcp(REDIS_PORTS.exporter) },
          ],
          egress: [{ to: [{ podSelector: redisPods }], ports: tcp(REDIS_PORTS.client, REDIS_PORTS.bus) }],
        },
      },
      child,
    );

    this.port = port;
    this.nodes = pulumi
      .output(ns)
      .apply((n) => Array.from({ length: args.leaders }, (_, i) => `${cluster}-leader-${i}.${cluster}-leader-headless.${n}.svc:${port}`).join(","));
    this.registerOutputs({
      nodes: this.nodes,
      port,
      password: this.password,
      leaders: args.leaders,
      followers: args.leaders * args.followersPerLeader,
      tls: args.tls ? { secretName: tlsSecret, serverName: this.tlsServerName } : false,
    });
  }
}
