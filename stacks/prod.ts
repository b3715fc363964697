import type { EnvironmentSpecInput } from "../infra/config/schema";

/** Production: app.diaspomoney.fr, deployed from `main`. Owns the Cloudflare zone settings. */
export const prod = {
  name: "prod",
  tier: "production",
  domain: "diaspomoney.fr",
  hosts: {
    app: "app.diaspomoney.fr",
    grafana: "grafana.diaspomoney.fr",
    prometheus: "prometheus.diaspomoney.fr",
    alertmanager: "alertmanager.diaspomoney.fr",
  },
  app: {
    replicas: 5,
    maxReplicas: 20,
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } },
  },
  namespaces: {
    app: {
      cpu: { requests: "32", limits: "128" },
      memory: { requests: "48Gi", limits: "96Gi" },
      pods: 100,
      persistentVolumeClaims: 20,
      storage: "500Gi",
      containerDefaults: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
    infra: {
      cpu: { requests: "32", limits: "72" },
      memory: { requests: "128Gi", limits: "256Gi" },
      pods: 60,
      persistentVolumeClaims: 40,
      storage: "4Ti",
      containerDefaults: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    },
  },
  kafka: {
    brokers: 5,
    dedicatedControllers: 3,
    storage: "200Gi",
    resources: { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "4", memory: "8Gi" } },
    controllers: { storage: "20Gi", resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } } },
    topics: [
      { name: "transactions", partitions: 24, replicas: 3, retentionHours: 24 * 14 },
      { name: "payments", partitions: 24, replicas: 3, retentionHours: 24 * 14 },
      { name: "notifications", partitions: 12, replicas: 3, retentionHours: 24 * 3 },
      { name: "audit-log", partitions: 12, replicas: 3, retentionHours: 24 * 365 },
    ],
  },
  mongodb: {
    members: 3,
    storage: "200Gi",
    resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { cpu: "4", memory: "16Gi" } },
    backup: { schedule: "0 0 * * *", keep: 30, pointInTimeRecovery: true },
  },
  redis: {
    leaders: 3,
    followersPerLeader: 1,
    storage: "20Gi",
    resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
  },
  monitoring: { prometheusRetention: "30d", prometheusReplicas: 2, prometheusStorage: "200Gi", alertmanagerReplicas: 3, grafanaReplicas: 2 },
  edge: { traefikReplicas: 3, acmeEnvironment: "production", rateLimit: { average: 200, burst: 400 } },
  atlas: {
    region: "EU_WEST_1",
    instanceSize: "M30",
    searchIndexes: [
      {
        name: "transactions-search",
        database: "diaspomoney",
        collection: "transactions",
        fields: { reference: { type: "token" }, status: { type: "token" }, createdAt: { type: "date" }, amount: { type: "number" } },
      },
    ],
  },
  features: { atlas: true, waf: true, manageZone: true, protectStatefulResources: true },
} satisfies EnvironmentSpecInput;
