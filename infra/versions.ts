/**
 * Every chart version and container image the platform deploys, pinned in one place. Bump here,
 * review the plan diff, then deploy dev → rct → prod.
 */
export const charts = {
  strimzi: { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0" },
  psmdbOperator: { chart: "psmdb-operator", repo: "https://percona.github.io/percona-helm-charts/", version: "1.22.0" },
  // Latest 0.26.x chart. Its appVersion has lagged operator releases before: the operator image is
  // pinned separately (images.redisOperator) and passed to the chart.
  redisOperator: { chart: "redis-operator", repo: "https://ot-container-kit.github.io/helm-charts/", version: "0.26.1" },
  traefik: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0" },
  kubePrometheusStack: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" },
  certManager: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1" },
} as const;

export const images = {
  // Percona's certified set for operator 1.22.0 (release notes, "Supported software"). Pinned by tag:
  // the published digests are per architecture, and nodes may be amd64 or arm64.
  perconaServerMongodb: "docker.io/percona/percona-server-mongodb:8.0.17-6",
  perconaBackupMongodb: "docker.io/percona/percona-backup-mongodb:2.11.0",
  psmdbOperator: "docker.io/percona/percona-server-mongodb-operator:1.22.0",
  mongodbExporter: "docker.io/percona/mongodb_exporter:0.47.1",
  // OT-Container-Kit's own images (quay.io/opstree). Opstree prunes old tags from quay.io: check the
  // tag still exists before bumping the operator.
  redisOperator: "quay.io/opstree/redis-operator:v0.26.0",
  redis: "quay.io/opstree/redis:v8.6.2",
  redisExporter: "quay.io/opstree/redis-exporter:v1.83.0",
} as const;

/** Versions of software an operator runs for us (the operator maps them to its own images). */
export const operands = {
  /** Apache Kafka run by Strimzi 1.2.0 (which supports 4.3.x): pinned so an operator bump does not move it. */
  kafka: "4.3.1",
} as const;

/** `spec.crVersion` of the custom resources, which tells an operator which behaviour to apply. */
export const crVersions = {
  /** PerconaServerMongoDB: the operator version the resource is written for. */
  perconaServerMongodb: "1.22.0",
} as const;

/**
 * Charts only cluster stacks install (see infra/cluster/). The Cluster Autoscaler's minor follows
 * the cluster's Kubernetes minor (chart 9.52 runs autoscaler 1.34): bump both together.
 */
export const clusterCharts = {
  clusterAutoscaler: { chart: "cluster-autoscaler", repo: "https://kubernetes.github.io/autoscaler", version: "9.52.1" },
} as const;

/**
 * Releases whose CustomResourceDefinitions the cluster stacks apply (infra/crds.ts), each the same
 * release as the controller that serves them: bumping a chart above moves its CRDs too, so the CRDs
 * upgrade before the new controller runs against them.
 */
export const crdReleases = {
  strimzi: charts.strimzi.version,
  perconaMongodb: `v${crVersions.perconaServerMongodb}`,
  redisOperator: images.redisOperator.slice(images.redisOperator.lastIndexOf(":") + 1),
  traefik: `v${charts.traefik.version}`,
  prometheusOperator: `kube-prometheus-stack-${charts.kubePrometheusStack.version}`,
  certManager: charts.certManager.version,
  verticalPodAutoscaler: "vertical-pod-autoscaler-1.7.1",
} as const;
