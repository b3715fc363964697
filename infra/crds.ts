import { crdReleases } from "./versions";

/**
 * Every CustomResourceDefinition the platform relies on, by upstream release: where each file lives
 * in its project's repository at the pinned release (infra/versions.ts), and which kinds it defines.
 *
 * The cluster stacks apply these files (components/crds.ts), never the environments and never a
 * chart: a chart's CRDs are either never upgraded (`helm.v3.Release`, Helm's `crds/` rule) or deleted
 * with the chart (`helm.v4.Chart`, unless the chart marks them `helm.sh/resource-policy: keep`).
 */

export type CrdRelease = keyof typeof crdReleases;

export interface CrdFile {
  /** File name, the same in the upstream repository and in a local CRD directory. */
  file: string;
  /** API group and kinds the file defines. */
  group: string;
  kinds: string[];
  /**
   * True when the platform's own objects (in the environment stacks) are of these kinds. The other
   * files are what the controllers' charts need besides (Prometheus, Alertmanager, ACME orders...).
   */
  platformObjects: boolean;
}

export interface CrdSource {
  release: CrdRelease;
  /** Folder of the files in a local CRD directory (`<directory>/<folder>/<file>`). */
  folder: string;
  /** `https://raw.githubusercontent.com/<repository>/<ref>/<path>/<file>` at the pinned release. */
  repository: string;
  path: string;
  files: CrdFile[];
}

const f = (file: string, group: string, kinds: string[], platformObjects = true): CrdFile => ({ file, group, kinds, platformObjects });

export const CRD_SOURCES: readonly CrdSource[] = [
  {
    release: "certManager",
    folder: "cert-manager",
    repository: "cert-manager/cert-manager",
    path: "deploy/crds",
    files: [
      f("cert-manager.io_certificates.yaml", "cert-manager.io", ["Certificate"]),
      f("cert-manager.io_issuers.yaml", "cert-manager.io", ["Issuer"]),
      f("cert-manager.io_clusterissuers.yaml", "cert-manager.io", ["ClusterIssuer"]),
      f("cert-manager.io_certificaterequests.yaml", "cert-manager.io", ["CertificateRequest"], false),
      f("acme.cert-manager.io_orders.yaml", "acme.cert-manager.io", ["Order"], false),
      f("acme.cert-manager.io_challenges.yaml", "acme.cert-manager.io", ["Challenge"], false),
    ],
  },
  {
    release: "strimzi",
    folder: "strimzi",
    repository: "strimzi/strimzi-kafka-operator",
    path: "install/cluster-operator",
    files: [
      f("040-Crd-kafka.yaml", "kafka.strimzi.io", ["Kafka"]),
      f("043-Crd-kafkatopic.yaml", "kafka.strimzi.io", ["KafkaTopic"]),
      f("044-Crd-kafkauser.yaml", "kafka.strimzi.io", ["KafkaUser"]),
      f("045-Crd-kafkanodepool.yaml", "kafka.strimzi.io", ["KafkaNodePool"]),
    ],
  },
  {
    release: "perconaMongodb",
    folder: "percona-server-mongodb-operator",
    repository: "percona/percona-server-mongodb-operator",
    path: "config/crd/bases",
    files: [
      f("psmdb.percona.com_perconaservermongodbs.yaml", "psmdb.percona.com", ["PerconaServerMongoDB"]),
      f("psmdb.percona.com_perconaservermongodbbackups.yaml", "psmdb.percona.com", ["PerconaServerMongoDBBackup"]),
      f("psmdb.percona.com_perconaservermongodbrestores.yaml", "psmdb.percona.com", ["PerconaServerMongoDBRestore"]),
    ],
  },
  {
    release: "redisOperator",
    folder: "redis-operator",
    repository: "OT-CONTAINER-KIT/redis-operator",
    path: "config/crd/bases",
    files: [
      f("redis.redis.opstreelabs.in_redisclusters.yaml", "redis.redis.opstreelabs.in", ["RedisCluster"]),
      // The operator watches all four kinds at start-up: without their CRDs it does not run.
      f("redis.redis.opstreelabs.in_redis.yaml", "redis.redis.opstreelabs.in", ["Redis"], false),
      f("redis.redis.opstreelabs.in_redisreplications.yaml", "redis.redis.opstreelabs.in", ["RedisReplication"], false),
      f("redis.redis.opstreelabs.in_redissentinels.yaml", "redis.redis.opstreelabs.in", ["RedisSentinel"], false),
    ],
  },
  {
    release: "traefik",
    folder: "traefik",
    repository: "traefik/traefik-helm-chart",
    path: "traefik/crds",
    files: [
      f("traefik.io_ingressroutes.yaml", "traefik.io", ["IngressRoute"]),
      f("traefik.io_middlewares.yaml", "traefik.io", ["Middleware"]),
      f("traefik.io_tlsoptions.yaml", "traefik.io", ["TLSOption"]),
      f("traefik.io_tlsstores.yaml", "traefik.io", ["TLSStore"]),
      f("traefik.io_traefikservices.yaml", "traefik.io", ["TraefikService"]),
      f("traefik.io_serverstransports.yaml", "traefik.io", ["ServersTransport"]),
    ],
  },
  {
    release: "prometheusOperator",
    folder: "prometheus-operator",
    repository: "prometheus-community/helm-charts",
    path: "charts/kube-prometheus-stack/charts/crds/crds",
    files: [
      f("crd-servicemonitors.yaml", "monitoring.coreos.com", ["ServiceMonitor"]),
      f("crd-podmonitors.yaml", "monitoring.coreos.com", ["PodMonitor"]),
      f("crd-prometheusrules.yaml", "monitoring.coreos.com", ["PrometheusRule"]),
      f("crd-alertmanagerconfigs.yaml", "monitoring.coreos.com", ["AlertmanagerConfig"]),
      f("crd-alertmanagers.yaml", "monitoring.coreos.com", ["Alertmanager"], false),
      f("crd-prometheuses.yaml", "monitoring.coreos.com", ["Prometheus"], false),
      f("crd-prometheusagents.yaml", "monitoring.coreos.com", ["PrometheusAgent"], false),
      f("crd-probes.yaml", "monitoring.coreos.com", ["Probe"], false),
      f("crd-scrapeconfigs.yaml", "monitoring.coreos.com", ["ScrapeConfig"], false),
      f("crd-thanosrulers.yaml", "monitoring.coreos.com", ["ThanosRuler"], false),
    ],
  },
  {
    release: "verticalPodAutoscaler",
    folder: "vertical-pod-autoscaler",
    repository: "kubernetes/autoscaler",
    path: "vertical-pod-autoscaler/deploy",
    files: [f("vpa-v1-crd-gen.yaml", "autoscaling.k8s.io", ["VerticalPodAutoscaler", "VerticalPodAutoscalerCheckpoint"])],
  },
];

/** Where the cluster stack reads CRD files from: the pinned release URLs, or a local copy of them. */
export type CrdLocation = { kind: "release" } | { kind: "directory"; directory: string };

/** URL of `file` at the pinned release of `source`. */
export function crdUrl(source: CrdSource, file: CrdFile): string {
  return `https://raw.githubusercontent.com/${source.repository}/${crdReleases[source.release]}/${source.path}/${file.file}`;
}

/** Path or URL the provider reads `file` from. */
export function crdLocation(source: CrdSource, file: CrdFile, location: CrdLocation): string {
  return location.kind === "release" ? crdUrl(source, file) : `${location.directory.replace(/\/+$/, "")}/${source.folder}/${file.file}`;
}

/**
 * The files a cluster applies. Where the cluster's controllers are run by another team
 * (`services: external`), only the CRDs of the platform's own objects: the controllers' other CRDs
 * are theirs.
 */
export function crdFiles(services: "managed" | "external"): { source: CrdSource; file: CrdFile }[] {
  return CRD_SOURCES.flatMap((source) =>
    source.files.filter((file) => services === "managed" || file.platformObjects).map((file) => ({ source, file })),
  );
}

/** `group/Kind` of every kind the platform's CRDs define. */
export function crdKinds(services: "managed" | "external" = "managed"): Set<string> {
  return new Set(crdFiles(services).flatMap(({ file }) => file.kinds.map((k) => `${file.group}/${k}`)));
}

/** The CRD release versions, as the cluster stack publishes them and environments require them. */
export function crdVersions(): Record<CrdRelease, string> {
  return { ...crdReleases };
}
