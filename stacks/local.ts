import type { EnvironmentSpecInput } from "../infra/config/schema";

/**
 * Local: the platform on a laptop cluster (kind, k3d or minikube), to see it run. The shape of dev at
 * the smallest size the platform's rules allow: one app replica, one MongoDB member, Redis and Kafka at
 * their minimum (3 leaders with one follower each; 3 brokers, since topics keep 3 replicas with
 * min.insync.replicas 2). Hosts under `localhost` (browsers resolve them to 127.0.0.1), certificates
 * from the cluster stack's internal CA, no Cloudflare and no Atlas. See README.md, "The local stack".
 */
export const local = {
  name: "local",
  tier: "development",
  domain: "diaspomoney.localhost",
  hosts: {
    app: "app.diaspomoney.localhost",
    grafana: "grafana.diaspomoney.localhost",
    prometheus: "prometheus.diaspomoney.localhost",
    alertmanager: "alertmanager.diaspomoney.localhost",
  },
  app: {
    replicas: 1,
    maxReplicas: 2,
    resources: { requests: { cpu: "100m", memory: "192Mi" }, limits: { cpu: "500m", memory: "384Mi" } },
  },
  namespaces: {
    app: {
      cpu: { requests: "4", limits: "16" },
      memory: { requests: "8Gi", limits: "16Gi" },
      pods: 30,
      persistentVolumeClaims: 6,
      storage: "20Gi",
      containerDefaults: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
    },
    infra: {
      cpu: { requests: "4", limits: "16" },
      memory: { requests: "8Gi", limits: "16Gi" },
      pods: 30,
      persistentVolumeClaims: 20,
      storage: "40Gi",
      containerDefaults: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
    },
  },
  kafka: {
    brokers: 3,
    dedicatedControllers: 0,
    storage: "2Gi",
    resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    topics: [
      { name: "transactions", partitions: 3, replicas: 3, retentionHours: 24 },
      { name: "payments", partitions: 3, replicas: 3, retentionHours: 24 },
      { name: "notifications", partitions: 1, replicas: 3, retentionHours: 24 },
      // Audit events are kept a year everywhere (the audit-logging control), even here.
      { name: "audit-log", partitions: 1, replicas: 3, retentionHours: 24 * 365 },
    ],
  },
  mongodb: {
    members: 1,
    storage: "2Gi",
    resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    backup: { schedule: "0 0 * * *", keep: 7, pointInTimeRecovery: false },
  },
  redis: {
    leaders: 3,
    followersPerLeader: 1,
    storage: "1Gi",
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  },
  monitoring: { prometheusRetention: "1d", prometheusReplicas: 1, prometheusStorage: "2Gi", alertmanagerReplicas: 1, grafanaReplicas: 1 },
  edge: { traefikReplicas: 2, acmeEnvironment: "staging", certificates: "cluster-ca", rateLimit: { average: 100, burst: 200 } },
  atlas: { region: "EU_WEST_1", instanceSize: "M10", searchIndexes: [] },
  features: { atlas: false, waf: false, manageZone: false, protectStatefulResources: false },
} satisfies EnvironmentSpecInput;
