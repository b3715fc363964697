import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { leafCertificateSpec, type IssuedTls } from "./internal-ca";
import { awaitAnnotations, helmReleaseAwait } from "./lifecycle";
import type { ContainerResources } from "./namespaces";
import { apiServerEgress, ciliumClusterAccess, tcp, type ApiServerAccess } from "./network";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Labels = (name: string, component?: string) => Record<string, string>;

/** A Helm chart pinned by the caller. `repo` is absent for OCI references (`oci://...`). */
export interface PinnedChart {
  chart: string;
  version: string;
  repo?: string;
}


/** Label keys charts set on their own pod templates: passing them again would duplicate YAML keys. */
const CHART_OWNED_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"];

/** Our labels a chart may add to its pods (environment, part-of, component): the rest belongs to the chart. */
export function chartPodLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !CHART_OWNED_LABELS.includes(k)));
}

/** Labels Strimzi puts on its Cluster Operator pod (from the chart's Deployment). */
export const STRIMZI_OPERATOR_POD_LABELS = { "strimzi.io/kind": "cluster-operator" } as const;
/** Ports of the Kafka pods Strimzi manages besides the client listeners (Strimzi's KafkaCluster model). */
export const STRIMZI_PORTS = { controlPlane: 9090, replication: 9091, agent: 8443, metrics: 9404 } as const;

// ---------------------------------------------------------------------------------------------------
// Operator
// ---------------------------------------------------------------------------------------------------

export interface StrimziOperatorArgs {
  /** Namespace the operator is installed into; it watches only this namespace. */
  namespace: pulumi.Input<string>;
  chart: PinnedChart;
  labels: Labels;
  /**
   * Install the chart. False where the cluster's owners install Strimzi themselves (same chart and
   * release name) into this namespace. Never its CRDs nor its ClusterRoles: the cluster stack owns
   * them, and this installation's cluster-wide bindings to them (components/cluster-rbac.ts).
   */
  installChart: boolean;
  /** Operator container resources. Default: 200m/384Mi requested, 1 CPU/384Mi limit (the chart's). */
  resources?: ContainerResources;
  /** Pods allowed to scrape the operator's metrics (port 8080). Default: none. */
  metricsScrapers?: Peer[];
  apiServer?: ApiServerAccess;
  /** Wait for the operator to be ready, rolling back a failed install (see `helmReleaseAwait`). Default true. */
  awaitReadiness?: boolean;
}

/** The Cluster Operator's container (the chart's defaults). */
export const STRIMZI_OPERATOR_RESOURCES: ContainerResources = { requests: { cpu: "200m", memory: "384Mi" }, limits: { cpu: "1", memory: "384Mi" } };

/**
 * The Strimzi Cluster Operator, watching only its own namespace, running with the `restricted` Pod
 * Security profile, and also applying it to every pod it creates (Kafka, entity operator, exporter).
 *
 * `helm.v3.Release` rather than `helm.v4.Chart`: the chart ships its CRDs in `crds/`, which Helm
 * installs once and never deletes. With `helm.v4.Chart` they would be Pulumi resources of the stack
 * that installs them, and destroying that stack (dev, on the cluster it shares with rct) would delete
 * the CRDs and with them every Kafka, topic and user of the cluster. The Release also rolls back
 * atomically. Its known drawback, values kept in clear in the state (pulumi-kubernetes#2003), does not
 * apply: the values hold no secret. `@pulumi/kubernetes` >= 4.32 reads a Release's CRDs at preview, so
 * the custom resources that wait for it preview on an empty cluster.
 */
export class StrimziOperator extends pulumi.ComponentResource {
  readonly release?: k8s.helm.v3.Release;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: StrimziOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:data:StrimziOperator", name, {}, opts);
    const values = strimziOperatorValues(args);

    this.release = args.installChart
      ? new k8s.helm.v3.Release(
          name,
          {
            name: "strimzi-kafka-operator",
            chart: args.chart.chart,
            version: args.chart.version,
            ...(args.chart.repo ? { repositoryOpts: { repo: args.chart.repo } } : {}),
            namespace: args.namespace,
            createNamespace: false,
            skipCrds: true,
            ...helmReleaseAwait(args.awaitReadiness),
            cleanupOnFail: true,
            maxHistory: 10,
            values,
          },
          { parent: this },
        )
      : undefined;

    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-network`,
      {
        metadata: { name: "strimzi-cluster-operator", namespace: args.namespace, labels: args.labels("strimzi-cluster-operator", "operator") },
        spec: {
          podSelector: { matchLabels: { ...STRIMZI_OPERATOR_POD_LABELS } },
          policyTypes: ["Ingress", "Egress"],
          ingress: args.metricsScrapers?.length ? [{ from: args.metricsScrapers, ports: tcp(8080) }] : [],
          egress: [
            ...apiServerEgress(args.apiServer),
            {
              to: [{ podSelector: { matchLabels: { "strimzi.io/kind": "Kafka" } } }],
              ports: tcp(STRIMZI_PORTS.controlPlane, STRIMZI_PORTS.replication, STRIMZI_PORTS.agent),
            },
          ],
        },
      },
      { parent: this },
    );
    ciliumClusterAccess(
      `${name}-cluster-access`,
      {
        metadata: { name: "strimzi-cluster-operator-cluster-access", namespace: args.namespace, labels: args.labels("strimzi-cluster-operator", "operator") },
        podSelector: { matchLabels: { ...STRIMZI_OPERATOR_POD_LABELS } },
        access: { apiServer: true },
        api: args.apiServer,
      },
      { parent: this },
    );

    this.registerOutputs({ chartVersion: args.chart.version, chartInstalled: args.installChart, watchedNamespace: args.namespace });
  }
}

/** The chart values: no secret ever goes here (they are stored in state and visible in previews). */
export function strimziOperatorValues(args: Pick<StrimziOperatorArgs, "labels" | "resources">): Record<string, unknown> {
  return {
    // Empty list + release namespace: STRIMZI_NAMESPACE is the operator's own namespace.
    watchNamespaces: [],
    watchAnyNamespace: false,
    // ClusterRoles and cluster-wide bindings are the cluster stack's (components/cluster-rbac.ts).
    createGlobalResources: false,
    // Strimzi's generated policies open the metrics port to every pod of the cluster and the listeners
    // to all unless peers are listed, and say nothing about egress, which our namespace denies. The
    // Kafka component writes the complete set instead.
    generateNetworkPolicy: false,
    labels: chartPodLabels(args.labels("strimzi-cluster-operator", "operator")),
    resources: args.resources ?? STRIMZI_OPERATOR_RESOURCES,
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    },
    extraEnvs: [{ name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" }],
  };
}

// ---------------------------------------------------------------------------------------------------
// Kafka cluster
// ---------------------------------------------------------------------------------------------------

export type KafkaRole = "controller" | "broker";

export interface KafkaNodePoolSpec {
  /** Pool name; pods are `<cluster>-<pool>-<n>`. */
  name: string;
  replicas: number;
  roles: KafkaRole[];
  /** Size of each node's persistent volume claim. */
  storage: string;
  /** StorageClass of the claims. Default: the cluster's default class. */
  storageClass?: string;
  resources: ContainerResources;
}

export interface KafkaTopicSpec {
  name: string;
  partitions: number;
  replicas: number;
  /** Retention in hours: always finite. */
  retentionHours: number;
  cleanupPolicy: "delete" | "compact";
}

export interface KafkaClusterArgs {
  namespace: pulumi.Input<string>;
  labels: Labels;
  /** Name of the `Kafka` resource. Default `kafka` (bootstrap Service `kafka-kafka-bootstrap`). */
  clusterName?: string;
  /** Apache Kafka version the operator runs. Pinned by the caller so operator upgrades do not move it. */
  version: string;
  pools: KafkaNodePoolSpec[];
  topics: KafkaTopicSpec[];
  /** The application's SCRAM-SHA-512 user: its ACLs reach only `topics` and its consumer groups. */
  app: {
    user: string;
    /** Consumer groups the app may use: every group whose name starts with this prefix. */
    consumerGroupPrefix: string;
  };
  /** Pods allowed on the client listener: the application. */
  clients: Peer[];
  /** Pods allowed on the metrics ports: Prometheus. */
  metricsScrapers: Peer[];
  /** Port of the TLS + SCRAM-SHA-512 client listener. Default 9093. */
  listenerPort?: number;
  /**
   * The client listener's certificate from a cert-manager issuer the caller owns (Certificate and
   * Secret `<cluster>-listener-tls`), so that clients verify the brokers against that issuer's CA.
   * Traffic between brokers and controllers, and from the operators, keeps Strimzi's own CAs.
   * Default: Strimzi's cluster CA, created in the cluster at runtime.
   */
  listenerTls?: IssuedTls;
  /** Cluster DNS suffix. Default `svc.cluster.local`. */
  clusterDomain?: string;
  /** Node label used as `broker.rack` and for zone spreading. Default `topology.kubernetes.io/zone`. */
  rackTopologyKey?: string;
  /**
   * Production guard: `protect` and `retainOnDelete` on the Kafka, node pool and topic resources, and
   * `delete.topic.enable=false` on the brokers so that deleting a KafkaTopic cannot delete its data.
   * Claims are always kept (`deleteClaim: false`). Default: off.
   */
  protectData?: boolean;
  /** The operator installation; the custom resources wait for it (its CRDs must exist first). */
  operator?: pulumi.Resource;
  apiServer?: ApiServerAccess;
  /** Defaults: {@link ENTITY_OPERATOR_RESOURCES} for each of the topic and user operators. */
  entityOperatorResources?: ContainerResources;
  /** Defaults: {@link KAFKA_EXPORTER_RESOURCES}. */
  exporterResources?: ContainerResources;
  /** Make `pulumi up` wait for the cluster, its topics and its user to be ready (see `awaitAnnotations`). Default true. */
  awaitReadiness?: boolean;
}

/** Each of the entity operator's two containers (Topic Operator, User Operator). */
export const ENTITY_OPERATOR_RESOURCES: ContainerResources = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
/** Kafka Exporter's container. */
export const KAFKA_EXPORTER_RESOURCES: ContainerResources = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } };

/** Replication settings every broker runs with: three copies, two must acknowledge. */
export const MIN_INSYNC_REPLICAS = 2;

/** Broker settings: no silent data loss, no topic created by accident. */
export function brokerConfig(opts: { protectData?: boolean } = {}): Record<string, string | number | boolean> {
  return {
    "default.replication.factor": 3,
    "min.insync.replicas": MIN_INSYNC_REPLICAS,
    "offsets.topic.replication.factor": 3,
    "transaction.state.log.replication.factor": 3,
    "transaction.state.log.min.isr": MIN_INSYNC_REPLICAS,
    "unclean.leader.election.enable": false,
    "auto.create.topics.enable": false,
    ...(opts.protectData ? { "delete.topic.enable": false } : {}),
  };
}

const HOUR_MS = 3_600_000;

/** A topic's `KafkaTopic.spec`. */
export function topicSpec(topic: KafkaTopicSpec): Record<string, unknown> {
  return {
    partitions: topic.partitions,
    replicas: topic.replicas,
    config: {
      "retention.ms": topic.retentionHours * HOUR_MS,
      "min.insync.replicas": MIN_INSYNC_REPLICAS,
      "cleanup.policy": topic.cleanupPolicy,
    },
  };
}

/**
 * Problems that would make topics unsafe or unschedulable on `brokers` brokers, one message each
 * (empty when fine): a replica count the brokers cannot hold or that leaves no room for one broker
 * down with `min.insync.replicas` 2, and duplicate names.
 */
export function topicProblems(topics: KafkaTopicSpec[], brokers: number): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const t of topics) {
    if (seen.has(t.name)) problems.push(`topic "${t.name}" is declared twice`);
    seen.add(t.name);
    if (t.replicas < MIN_INSYNC_REPLICAS + 1) {
      problems.push(`topic "${t.name}": ${t.replicas} replicas, expected at least ${MIN_INSYNC_REPLICAS + 1} (min.insync.replicas ${MIN_INSYNC_REPLICAS} plus one broker that may be down)`);
    }
    if (t.replicas > brokers) problems.push(`topic "${t.name}": ${t.replicas} replicas, but only ${brokers} brokers`);
  }
  return problems;
}

/**
 * Problems of a cluster made of `pools` holding `topics`: fewer than three brokers (replication
 * factor 3), an even number of controllers (a KRaft quorum needs a majority), and the topics' own.
 */
export function kafkaClusterProblems(pools: KafkaNodePoolSpec[], topics: KafkaTopicSpec[]): string[] {
  const count = (role: KafkaRole) => pools.filter((p) => p.roles.includes(role)).reduce((n, p) => n + p.replicas, 0);
  const brokers = count("broker");
  const controllers = count("controller");
  return [
    ...(brokers < 3 ? [`${brokers} brokers, expected at least 3 (replication factor 3)`] : []),
    ...(controllers % 2 === 0 ? [`${controllers} controllers, expected an odd number (KRaft quorum)`] : []),
    ...topicProblems(topics, brokers),
  ];
}

/**
 * Names a client may dial on the client listener: the bootstrap Service (short to fully qualified)
 * and every broker as Strimzi advertises it on an internal listener, through the brokers' headless
 * Service (`<cluster>-<pool>-<id>.<cluster>-kafka-brokers.<namespace>.svc`).
 */
export function listenerDnsNames(cluster: string, namespace: string, clusterDomain = "svc.cluster.local"): string[] {
  const bootstrap = `${cluster}-kafka-bootstrap`;
  const brokers = `${cluster}-kafka-brokers`;
  return [
    ...new Set([
      bootstrap,
      `${bootstrap}.${namespace}`,
      `${bootstrap}.${namespace}.svc`,
      `${bootstrap}.${namespace}.${clusterDomain}`,
      `*.${brokers}.${namespace}.svc`,
      `*.${brokers}.${namespace}.${clusterDomain}`,
    ]),
  ];
}

/** The app user's ACLs: its topics (literal names) and its consumer groups (prefix), nothing else. */
export function appAcls(topics: string[], consumerGroupPrefix: string): Record<string, unknown>[] {
  return [
    ...topics.map((name) => ({
      type: "allow",
      resource: { type: "topic", name, patternType: "literal" },
      operations: ["Read", "Write", "Describe"],
    })),
    {
      type: "allow",
      resource: { type: "group", name: consumerGroupPrefix, patternType: "prefix" },
      operations: ["Read", "Describe"],
    },
  ];
}

/**
 * Prometheus JMX exporter rules for brokers and controllers: throughput, replication health, KRaft
 * controller state and request latency. A ConfigMap is enough: rules are not secret.
 */
export const KAFKA_JMX_RULES = `lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  # Throughput per topic, then for the whole broker.
  - pattern: "kafka.server<type=BrokerTopicMetrics, name=(.+), topic=(.+)><>Count"
    name: kafka_server_brokertopicmetrics_$1_total
    type: COUNTER
    labels:
      topic: "$2"
  - pattern: "kafka.server<type=BrokerTopicMetrics, name=(.+)><>Count"
    name: kafka_server_brokertopicmetrics_$1_total
    type: COUNTER
  # Replication: under-replicated and offline partitions, ISR shrinks and expands.
  - pattern: "kafka.server<type=ReplicaManager, name=(.+)><>(Value|Count)"
    name: kafka_server_replicamanager_$1
    type: GAUGE
  - pattern: "kafka.cluster<type=Partition, name=(UnderReplicated|UnderMinIsr|AtMinIsr), topic=(.+), partition=(.+)><>Value"
    name: kafka_cluster_partition_$1
    type: GAUGE
    labels:
      topic: "$2"
      partition: "$3"
  # KRaft controllers: active controller, offline partitions, unclean elections.
  - pattern: "kafka.controller<type=KafkaController, name=(.+)><>Value"
    name: kafka_controller_kafkacontroller_$1
    type: GAUGE
  - pattern: "kafka.controller<type=ControllerStats, name=(.+)><>Count"
    name: kafka_controller_controllerstats_$1_total
    type: COUNTER
  - pattern: "kafka.server<type=raft-metrics><>([a-z-]+)"
    name: kafka_server_raftmetrics_$1
    type: GAUGE
  - pattern: "kafka.server<type=KafkaServer, name=BrokerState><>Value"
    name: kafka_server_kafkaserver_brokerstate
    type: GAUGE
  # Latency of produce and fetch requests, and how busy the request and network threads are.
  - pattern: "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=(Produce|FetchConsumer|FetchFollower)><>(50|99|999)thPercentile"
    name: kafka_network_requestmetrics_totaltimems
    type: GAUGE
    labels:
      request: "$1"
      quantile: "0.$2"
  - pattern: "kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate"
    name: kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent
    type: GAUGE
  - pattern: "kafka.network<type=SocketServer, name=NetworkProcessorAvgIdlePercent><>Value"
    name: kafka_network_socketserver_networkprocessoravgidlepercent
    type: GAUGE
  # Disk used per partition.
  - pattern: "kafka.log<type=Log, name=Size, topic=(.+), partition=(.+)><>Value"
    name: kafka_log_log_size
    type: GAUGE
    labels:
      topic: "$1"
      partition: "$2"
`;

const METRICS_KEY = "kafka-metrics-config.yml";

/**
 * Pod Security restricted, declared on the custom resources themselves: Strimzi's restricted provider
 * sets the same when our chart runs it, but where the operator is provided externally (a cluster
 * whose Strimzi another team runs) nothing else guarantees it.
 */
const RESTRICTED_POD = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true };

/** A pool's pod template: spread over zones (hard) and nodes (soft), away from the other Kafka pods. */
function poolPodTemplate(cluster: string, pool: string, zoneKey: string): Record<string, unknown> {
  const poolPods = { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/pool-name": pool } };
  return {
    securityContext: RESTRICTED_POD,
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/kind": "Kafka" } },
              topologyKey: "kubernetes.io/hostname",
            },
          },
        ],
      },
    },
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: zoneKey, whenUnsatisfiable: "DoNotSchedule", labelSelector: poolPods },
      { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: poolPods },
    ],
  };
}

/**
 * A KRaft Kafka cluster managed by Strimzi (`kafka.strimzi.io/v1`): node pools, one TLS listener with
 * SCRAM-SHA-512 and `simple` authorization, topics, the app's user with a generated password, JMX and
 * lag metrics, and the NetworkPolicies of every pod it brings (brokers, controllers, entity operator,
 * exporter).
 */
export class KafkaCluster extends pulumi.ComponentResource {
  readonly kafka: k8s.apiextensions.CustomResource;
  readonly pools: k8s.apiextensions.CustomResource[];
  readonly topics: k8s.apiextensions.CustomResource[];
  readonly user: k8s.apiextensions.CustomResource;
  /** What clients wait for: the cluster, its topics and the app's user, each awaited until ready. */
  readonly ready: pulumi.Resource[];
  /** `host:port,...` of the client listener, resolvable from any namespace. */
  readonly bootstrapServers: pulumi.Output<string>;
  readonly port: number;
  readonly username: string;
  /** The app user's password, a Pulumi secret. */
  readonly password: pulumi.Output<string>;
  /** Secret (in the Kafka namespace) holding Strimzi's cluster CA certificate (`ca.crt`). */
  readonly clusterCaSecretName: string;
  /** The client listener's Certificate and its Secret, when `listenerTls` is given. */
  readonly listenerCertificate?: k8s.apiextensions.CustomResource;
  readonly listenerSecretName?: string;
  /**
   * The CA clients of the listener must trust: the issuer's, when `listenerTls` is given (in any
   * issued Secret's `ca.crt`), else Strimzi's cluster CA (Secret {@link clusterCaSecretName}).
   */
  readonly listenerCa: "issuer" | "strimzi-cluster-ca";

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const cluster = args.clusterName ?? "kafka";
    // Before registering anything: an invalid cluster leaves no half-built component behind.
    const problems = kafkaClusterProblems(args.pools, args.topics);
    if (problems.length) throw new Error(`Kafka cluster "${cluster}" is invalid:\n  - ${problems.join("\n  - ")}`);
    super("diaspomoney:data:Kafka", name, {}, opts);
    const port = args.listenerPort ?? 9093;
    const zoneKey = args.rackTopologyKey ?? "topology.kubernetes.io/zone";
    const ns = args.namespace;

    const child = { parent: this };
    const stateful: pulumi.CustomResourceOptions = args.protectData ? { protect: true, retainOnDelete: true } : {};
    const crOpts = { ...child, dependsOn: args.operator ? [args.operator] : [] };
    const clusterLabel = { "strimzi.io/cluster": cluster };
    const meta = (objName: string, component: string, extra: Record<string, string> = {}) => ({
      name: objName,
      namespace: ns,
      labels: { ...args.labels(objName, component), ...extra },
    });

    const listenerSecret = `${cluster}-listener-tls`;
    if (args.listenerTls) {
      const tls = args.listenerTls;
      this.listenerCertificate = new k8s.apiextensions.CustomResource(
        `${name}-listener-certificate`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Certificate",
          // Strimzi fails the reconciliation while the Secret is missing: the Kafka waits for it.
          metadata: { ...meta(listenerSecret, "kafka"), annotations: awaitAnnotations("Certificate", args.awaitReadiness) },
          spec: pulumi.output(ns).apply((n) =>
            leafCertificateSpec({
              secretName: listenerSecret,
              issuer: tls.issuer,
              commonName: `${cluster}-kafka-bootstrap`,
              dnsNames: listenerDnsNames(cluster, n, args.clusterDomain),
              duration: tls.duration,
              renewBefore: tls.renewBefore,
              secretLabels: args.labels(listenerSecret, "kafka"),
            }),
          ),
        },
        { ...child, dependsOn: tls.after ?? [] },
      );
    }
    this.listenerCa = args.listenerTls ? "issuer" : "strimzi-cluster-ca";
    this.listenerSecretName = args.listenerTls ? listenerSecret : undefined;

    const metrics = new k8s.core.v1.ConfigMap(
      `${name}-metrics`,
      { metadata: meta(`${cluster}-metrics`, "kafka"), data: { [METRICS_KEY]: KAFKA_JMX_RULES } },
      child,
    );

    this.kafka = new k8s.apiextensions.CustomResource(
      `${name}-cluster`,
      {
        apiVersion: "kafka.strimzi.io/v1",
        kind: "Kafka",
        metadata: { ...meta(cluster, "kafka"), annotations: awaitAnnotations("Kafka", args.awaitReadiness) },
        spec: {
          kafka: {
            version: args.version,
            listeners: [
              {
                name: "tls",
                port,
                type: "internal",
                tls: true,
                authentication: { type: "scram-sha-512" },
                // Strimzi rolls the brokers when cert-manager renews the Secret.
                ...(args.listenerTls ? { configuration: { brokerCertChainAndKey: { secretName: listenerSecret, certificate: "tls.crt", key: "tls.key" } } } : {}),
              },
            ],
            // No superUsers: Strimzi's own components get their rights from their certificates.
            authorization: { type: "simple" },
            rack: { type: "topology-label", topologyKey: zoneKey },
            config: brokerConfig({ protectData: args.protectData }),
            metricsConfig: {
              type: "jmxPrometheusExporter",
              valueFrom: { configMapKeyRef: { name: metrics.metadata.name, key: METRICS_KEY } },
            },
            template: { podDisruptionBudget: { maxUnavailable: 1 }, pod: { securityContext: RESTRICTED_POD }, kafkaContainer: { securityContext: RESTRICTED_CONTAINER } },
          },
          entityOperator: {
            topicOperator: { resources: args.entityOperatorResources ?? ENTITY_OPERATOR_RESOURCES },
            userOperator: { resources: args.entityOperatorResources ?? ENTITY_OPERATOR_RESOURCES },
            template: {
              pod: { securityContext: RESTRICTED_POD },
              topicOperatorContainer: { securityContext: RESTRICTED_CONTAINER },
              userOperatorContainer: { securityContext: RESTRICTED_CONTAINER },
            },
          },
          kafkaExporter: {
            topicRegex: `^(${args.topics.map((t) => escapeRegex(t.name)).join("|")})$`,
            groupRegex: `^${escapeRegex(args.app.consumerGroupPrefix)}.*`,
            resources: args.exporterResources ?? KAFKA_EXPORTER_RESOURCES,
            template: { pod: { securityContext: RESTRICTED_POD }, container: { securityContext: RESTRICTED_CONTAINER } },
          },
        },
      },
      { ...crOpts, ...stateful, dependsOn: [...crOpts.dependsOn, ...(this.listenerCertificate ? [this.listenerCertificate] : [])] },
    );

    this.pools = args.pools.map(
      (pool) =>
        new k8s.apiextensions.CustomResource(
          `${name}-pool-${pool.name}`,
          {
            apiVersion: "kafka.strimzi.io/v1",
            kind: "KafkaNodePool",
            metadata: meta(pool.name, pool.roles.join("-"), clusterLabel),
            spec: {
              replicas: pool.replicas,
              roles: pool.roles,
              // JBOD with one volume: the storage type cannot change later, JBOD can still gain disks.
              storage: {
                type: "jbod",
                volumes: [
                  {
                    id: 0,
                    type: "persistent-claim",
                    size: pool.storage,
                    ...(pool.storageClass ? { class: pool.storageClass } : {}),
                    deleteClaim: false,
                    kraftMetadata: "shared",
                  },
                ],
              },
              resources: pool.resources,
              template: { pod: poolPodTemplate(cluster, pool.name, zoneKey), kafkaContainer: { securityContext: RESTRICTED_CONTAINER } },
            },
          },
          { ...crOpts, ...stateful },
        ),
    );

    const policies = this.networkPolicies(name, cluster, port, args);
    // Topics and users are created after, and deleted before, the cluster, its node pools and the
    // network policies its pods need: the Topic Operator (in the entity operator, which Strimzi runs
    // for the Kafka resource) removes each KafkaTopic's finalizer, and the User Operator deletes each
    // user's credentials and ACLs. Deleted in parallel with the cluster, they would wait for an
    // operator that is already gone, and `pulumi destroy` would hang on them.
    const topicsAndUsers = { ...child, dependsOn: [...crOpts.dependsOn, this.kafka, ...this.pools, ...policies] };

    this.topics = args.topics.map(
      (topic) =>
        new k8s.apiextensions.CustomResource(
          `${name}-topic-${topic.name}`,
          {
            apiVersion: "kafka.strimzi.io/v1",
            kind: "KafkaTopic",
            metadata: { ...meta(topic.name, "topic", clusterLabel), annotations: awaitAnnotations("KafkaTopic", args.awaitReadiness) },
            spec: topicSpec(topic),
          },
          { ...topicsAndUsers, ...stateful },
        ),
    );

    const generated = new random.RandomPassword(`${name}-${args.app.user}-password`, { length: 32, special: false }, child);
    this.password = pulumi.secret(generated.result);
    const passwordSecret = new k8s.core.v1.Secret(
      `${name}-${args.app.user}-password`,
      {
        metadata: meta(`${cluster}-${args.app.user}-password`, "credentials"),
        type: "Opaque",
        stringData: { password: this.password },
      },
      child,
    );

    this.user = new k8s.apiextensions.CustomResource(
      `${name}-user-${args.app.user}`,
      {
        apiVersion: "kafka.strimzi.io/v1",
        kind: "KafkaUser",
        metadata: { ...meta(args.app.user, "user", clusterLabel), annotations: awaitAnnotations("KafkaUser", args.awaitReadiness) },
        spec: {
          authentication: {
            type: "scram-sha-512",
            password: { valueFrom: { secretKeyRef: { name: passwordSecret.metadata.name, key: "password" } } },
          },
          authorization: { type: "simple", acls: appAcls(args.topics.map((t) => t.name), args.app.consumerGroupPrefix) },
        },
      },
      topicsAndUsers,
    );
    this.ready = [this.kafka, ...this.topics, this.user];

    this.port = port;
    this.username = args.app.user;
    this.clusterCaSecretName = `${cluster}-cluster-ca-cert`;
    this.bootstrapServers = pulumi.interpolate`${cluster}-kafka-bootstrap.${ns}.svc:${port}`;
    this.registerOutputs({
      bootstrapServers: this.bootstrapServers,
      port,
      username: this.username,
      password: this.password,
      clusterCaSecretName: this.clusterCaSecretName,
      listenerCa: this.listenerCa,
      listenerSecretName: this.listenerSecretName,
      pools: args.pools.map((p) => ({ name: p.name, replicas: p.replicas, roles: p.roles })),
      topics: args.topics.map((t) => t.name),
    });
  }

  /** Every pod Strimzi creates for this cluster gets its ingress and egress written here; returns the policies. */
  private networkPolicies(name: string, cluster: string, port: number, args: KafkaClusterArgs): pulumi.Resource[] {
    const created: pulumi.Resource[] = [];
    const ns = args.namespace;
    const kafkaPods = { "strimzi.io/cluster": cluster, "strimzi.io/kind": "Kafka" };
    const entityOperator = { "strimzi.io/name": `${cluster}-entity-operator` };
    const exporter = { "strimzi.io/name": `${cluster}-kafka-exporter` };
    const operatorPeer = { podSelector: { matchLabels: { ...STRIMZI_OPERATOR_POD_LABELS } } };
    const P = STRIMZI_PORTS;
    const policy = (suffix: string, component: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      created.push(
        new k8s.networking.v1.NetworkPolicy(
          `${name}-${suffix}`,
          { metadata: { name: `${cluster}-${suffix}`, namespace: ns, labels: args.labels(`${cluster}-${suffix}`, component) }, spec },
          { parent: this },
        ),
      );
    // On Cilium, the API-server access of `apiServerEgress` below (see components/network.ts).
    const clusterAccess = (suffix: string, component: string, podLabels: Record<string, string>) => {
      const cnp = ciliumClusterAccess(
        `${name}-${suffix}-cluster-access`,
        {
          metadata: { name: `${cluster}-${suffix}-cluster-access`, namespace: ns, labels: args.labels(`${cluster}-${suffix}`, component) },
          podSelector: { matchLabels: podLabels },
          access: { apiServer: true },
          api: args.apiServer,
        },
        { parent: this },
      );
      if (cnp) created.push(cnp);
    };

    policy("clients", "kafka", {
      podSelector: { matchLabels: { ...kafkaPods, "strimzi.io/broker-role": "true" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: args.clients, ports: tcp(port) }],
    });
    policy("nodes", "kafka", {
      podSelector: { matchLabels: kafkaPods },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [{ podSelector: { matchLabels: kafkaPods } }], ports: tcp(P.controlPlane, P.replication) },
        { from: [operatorPeer], ports: tcp(P.controlPlane, P.replication, P.agent) },
        { from: [{ podSelector: { matchLabels: entityOperator } }, { podSelector: { matchLabels: exporter } }], ports: tcp(P.replication) },
        { from: args.metricsScrapers, ports: tcp(P.metrics) },
      ],
      egress: [
        { to: [{ podSelector: { matchLabels: kafkaPods } }], ports: tcp(P.controlPlane, P.replication) },
        // The init container reads its node's zone label for `broker.rack`.
        ...apiServerEgress(args.apiServer),
      ],
    });
    clusterAccess("nodes", "kafka", kafkaPods);
    policy("entity-operator", "entity-operator", {
      podSelector: { matchLabels: entityOperator },
      policyTypes: ["Ingress", "Egress"],
      // Topic operator metrics on 8080, user operator on 8081.
      ingress: [{ from: args.metricsScrapers, ports: tcp(8080, 8081) }],
      egress: [{ to: [{ podSelector: { matchLabels: kafkaPods } }], ports: tcp(P.replication) }, ...apiServerEgress(args.apiServer)],
    });
    clusterAccess("entity-operator", "entity-operator", entityOperator);
    policy("exporter", "exporter", {
      podSelector: { matchLabels: exporter },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: args.metricsScrapers, ports: tcp(P.metrics) }],
      egress: [{ to: [{ podSelector: { matchLabels: kafkaPods } }], ports: tcp(P.replication) }],
    });
    return created;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
