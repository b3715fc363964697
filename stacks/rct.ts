import type { EnvironmentSpecInput } from "../infra/config/schema";

/** Acceptance (recette): rct.diaspomoney.fr, deployed from `rct`. Production's shape, smaller sizes. */
export const rct = {
  name: "rct",
  tier: "acceptance",
  domain: "diaspomoney.fr",
  hosts: {
    app: "rct.diaspomoney.fr",
    grafana: "grafana-rct.diaspomoney.fr",
    prometheus: "prometheus-rct.diaspomoney.fr",
    alertmanager: "alertmanager-rct.diaspomoney.fr",
  },
  app: {
    replicas: 3,
    maxReplicas: 8,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  },
  namespaces: {
    app: {
      cpu: { requests: "10", limits: "32" },
      memory: { requests: "20Gi", limits: "40Gi" },
      pods: 60,
      persistentVolumeClaims: 10,
      storage: "150Gi",
      containerDefaults: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
    infra: {
      cpu: { requests: "10", limits: "28" },
      memory: { requests: "32Gi", limits: "64Gi" },
      pods: 40,
      persistentVolumeClaims: 20,
      storage: "500Gi",
      containerDefaults: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
  },
  kafka: {
    brokers: 3,
    dedicatedControllers: 0,
    storage: "50Gi",
    resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    topics: [
      { name: "transactions", partitions: 12, replicas: 3, retentionHours: 24 * 7 },
      { name: "payments", partitions: 12, replicas: 3, retentionHours: 24 * 7 },
      { name: "notifications", partitions: 6, replicas: 3, retentionHours: 24 * 3 },
      { name: "audit-log", partitions: 6, replicas: 3, retentionHours: 24 * 365 },
    ],
  },
  mongodb: {
    members: 1,
    storage: "50Gi",
    resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    backup: { schedule: "0 0 * * *", keep: 14, pointInTimeRecovery: false },
  },
  redis: {
    leaders: 3,
    followersPerLeader: 1,
    storage: "10Gi",
    resources: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  },
  monitoring: { prometheusRetention: "15d", prometheusReplicas: 1, prometheusStorage: "50Gi", alertmanagerReplicas: 2, grafanaReplicas: 1 },
  edge: { traefikReplicas: 2, acmeEnvironment: "production", rateLimit: { average: 100, burst: 200 } },
  atlas: { region: "EU_WEST_1", instanceSize: "M10", searchIndexes: [] },
  features: { atlas: false, waf: false, manageZone: false, protectStatefulResources: false },
} satisfies EnvironmentSpecInput;
