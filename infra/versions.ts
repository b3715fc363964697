/**
 * Every chart version and container image the platform deploys, pinned in one place. Bump here,
 * review the plan diff, then deploy dev → rct → prod.
 */
export const charts = {
  strimzi: { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0" },
  psmdbOperator: { chart: "psmdb-operator", repo: "https://percona.github.io/percona-helm-charts/", version: "1.22.0" },
  redisOperator: { chart: "redis-operator", repo: "https://ot-container-kit.github.io/helm-charts/", version: "0.26.0" },
  traefik: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0" },
  kubePrometheusStack: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" },
  certManager: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.0" },
} as const;

export const images = {} as const;
