import type { EnvironmentSpecInput } from "../infra/config/schema";

/** Development: dev.diaspomoney.fr, deployed from `develop`. Small, disposable, same shape as prod. */
export const dev = {
  name: "dev",
  tier: "development",
  domain: "diaspomoney.fr",
  hosts: {
    app: "dev.diaspomoney.fr",
    grafana: "grafana-dev.diaspomoney.fr",
    prometheus: "prometheus-dev.diaspomoney.fr",
    alertmanager: "alertmanager-dev.diaspomoney.fr",
  },
  app: {
    replicas: 3,
    maxReplicas: 6,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  },
  namespaces: {
    app: {
      cpu: { requests: "8", limits: "28" },
      memory: { requests: "16Gi", limits: "32Gi" },
      pods: 60,
      persistentVolumeClaims: 10,
      storage: "100Gi",
      containerDefaults: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
    infra: {
      cpu: { requests: "8", limits: "20" },
      memory: { requests: "24Gi", limits: "48Gi" },
      pods: 40,
      persistentVolumeClaims: 20,
      storage: "300Gi",
      containerDefaults: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
  },
  kafka: {
    brokers: 3,
    dedicatedControllers: 0,
    storage: "20Gi",
    resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
    topics: [
      { name: "transactions", partitions: 6, replicas: 3, retentionHours: 24 * 7 },
      { name: "payments", partitions: 6, replicas: 3, retentionHours: 24 * 7 },
      { name: "notifications", partitions: 3, replicas: 3, retentionHours: 24 * 3 },
      { name: "audit-log", partitions: 3, replicas: 3, retentionHours: 24 * 365 },
    ],
  },
  mongodb: {
    members: 1,
    storage: "20Gi",
    resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
    backup: { schedule: "0 0 * * *", keep: 7, pointInTimeRecovery: false },
  },
  redis: {
    leaders: 3,
    followersPerLeader: 1,
    storage: "5Gi",
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  },
  monitoring: { prometheusRetention: "7d", prometheusReplicas: 1, prometheusStorage: "20Gi", alertmanagerReplicas: 1, grafanaReplicas: 1 },
  edge: { traefikReplicas: 2, acmeEnvironment: "production", rateLimit: { average: 100, burst: 200 } },
  atlas: { region: "EU_WEST_1", instanceSize: "M10", searchIndexes: [] },
  features: { atlas: false, waf: false, manageZone: false, protectStatefulResources: false },
} satisfies EnvironmentSpecInput;
