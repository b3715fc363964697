/**
 * The most an environment's namespaces can hold at once, computed from the stack file and the
 * components' resource constants, and the check that every ResourceQuota leaves room for it.
 *
 * "At once" is the worst moment of a normal day: the app at its autoscaler's maximum while a release
 * rolls out (each Deployment surges by its `maxSurge`), every chart workload at its configured size
 * and surging too, every operator-managed pod (brokers, members, Redis nodes) with its sidecars. A
 * quota below that refuses pods exactly when they are needed: the surge of an upgrade, a scale-up
 * under load. Pure functions, no Pulumi runtime: tested directly.
 */
import { APP_ROLLING_UPDATE, releaseVariants } from "../components/app";
import { CERT_MANAGER_BUDGET, CERT_MANAGER_RESOURCES } from "../components/cert-manager";
import { ENTITY_OPERATOR_RESOURCES, KAFKA_EXPORTER_RESOURCES, STRIMZI_OPERATOR_RESOURCES } from "../components/kafka";
import { MONGODB_BACKUP_AGENT_RESOURCES, MONGODB_EXPORTER_RESOURCES, PSMDB_OPERATOR_RESOURCES } from "../components/mongodb";
import { ALERTMANAGER_STORAGE, MONITORING_RESOURCES } from "../components/monitoring";
import type { ContainerResources, NamespaceBudget } from "../components/namespaces";
import { REDIS_EXPORTER_RESOURCES, REDIS_NODE_CONF_STORAGE, REDIS_OPERATOR_RESOURCES } from "../components/redis";
import { TRAEFIK_RESOURCES } from "../components/traefik";
import type { ConfigProblem } from "./config/load";
import type { DeploymentConfig, EnvironmentSpec } from "./config/schema";
import { kafkaNodePools } from "./data/kafka";

/** Room left above the computed maximum: pods still terminating while their replacements start, a hotfix sidecar, rounding. */
export const QUOTA_HEADROOM = 0.1;

/** Pods of one workload: how many at most, and what each one runs. */
export interface PodGroup {
  /** What runs, for messages: `web`, `kafka pool brokers`, `prometheus`. */
  name: string;
  /** Pods at the group's maximum size (the autoscaler's maximum for the app). */
  replicas: number;
  /** Extra pods while a rolling update runs (a Deployment's `maxSurge`; 0 for StatefulSets, which replace in place). */
  surge: number;
  containers: ContainerResources[];
  /** Init containers: a pod is charged the larger of their maximum and the containers' sum. */
  initContainers?: ContainerResources[];
  /** Size of each persistent volume claim a pod of the group owns. */
  volumes?: string[];
}

/** Quota dimensions, in base units: millicores, bytes, counts. */
export interface Quantities {
  cpuRequests: number;
  cpuLimits: number;
  memoryRequests: number;
  memoryLimits: number;
  pods: number;
  persistentVolumeClaims: number;
  storage: number;
}

export type Dimension = keyof Quantities;
export const DIMENSIONS: Dimension[] = ["cpuRequests", "cpuLimits", "memoryRequests", "memoryLimits", "pods", "persistentVolumeClaims", "storage"];

/** Where each dimension sits in a stack file's `namespaces.<ns>` block. */
export const BUDGET_KEYS: Record<Dimension, string> = {
  cpuRequests: "cpu.requests",
  cpuLimits: "cpu.limits",
  memoryRequests: "memory.requests",
  memoryLimits: "memory.limits",
  pods: "pods",
  persistentVolumeClaims: "persistentVolumeClaims",
  storage: "storage",
};

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Millicores in a CPU quantity (`"500m"`, `"2"`, `"0.5"`). */
export function millicores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q);
  if (!m) throw new Error(`"${q}" is not a CPU quantity such as 500m or 2`);
  return m[2] ? Number(m[1]) : Math.round(Number(m[1]) * 1000);
}

/** Bytes in a binary quantity (`"512Mi"`, `"200Gi"`, `"4Ti"`). */
export function bytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(q);
  if (!m) throw new Error(`"${q}" is not a binary quantity such as 512Mi or 20Gi`);
  return Number(m[1]) * BINARY[m[2]];
}

/** A Deployment's surge for `replicas`: Kubernetes rounds a percentage `maxSurge` up. */
export function surgeOf(maxSurge: number | string, replicas: number): number {
  if (typeof maxSurge === "number") return maxSurge;
  const pct = /^(\d+)%$/.exec(maxSurge);
  if (!pct) throw new Error(`maxSurge "${maxSurge}" is neither a count nor a percentage`);
  return Math.ceil((replicas * Number(pct[1])) / 100);
}

/** Kubernetes' default rolling update (25% surge), which the charts' Deployments keep unless said otherwise. */
const DEFAULT_MAX_SURGE = "25%";

function zero(): Quantities {
  return { cpuRequests: 0, cpuLimits: 0, memoryRequests: 0, memoryLimits: 0, pods: 0, persistentVolumeClaims: 0, storage: 0 };
}

/** What one pod of `g` is charged: per dimension, the larger of its containers' sum and its largest init container. */
function perPod(g: PodGroup): Pick<Quantities, "cpuRequests" | "cpuLimits" | "memoryRequests" | "memoryLimits"> {
  const charge = (read: (c: ContainerResources) => number) =>
    Math.max(
      g.containers.reduce((n, c) => n + read(c), 0),
      ...(g.initContainers ?? []).map(read),
    );
  return {
    cpuRequests: charge((c) => millicores(c.requests.cpu)),
    cpuLimits: charge((c) => millicores(c.limits.cpu)),
    memoryRequests: charge((c) => bytes(c.requests.memory)),
    memoryLimits: charge((c) => bytes(c.limits.memory)),
  };
}

/** What the groups need together, and each group's share, at their maximum with every surge at once. */
export function groupQuantities(g: PodGroup): Quantities {
  const pods = g.replicas + g.surge;
  const pod = perPod(g);
  const volumes = g.volumes ?? [];
  return {
    cpuRequests: pods * pod.cpuRequests,
    cpuLimits: pods * pod.cpuLimits,
    memoryRequests: pods * pod.memoryRequests,
    memoryLimits: pods * pod.memoryLimits,
    pods,
    // Claims belong to the replicas (StatefulSets), never to surging pods.
    persistentVolumeClaims: g.replicas * volumes.length,
    storage: g.replicas * volumes.reduce((n, v) => n + bytes(v), 0),
  };
}

export function namespaceMaximum(groups: PodGroup[]): Quantities {
  const total = zero();
  for (const g of groups) {
    const q = groupQuantities(g);
    for (const d of DIMENSIONS) total[d] += q[d];
  }
  return total;
}

/** The quota's values, in base units. */
export function budgetQuantities(b: NamespaceBudget): Quantities {
  return {
    cpuRequests: millicores(b.cpu.requests),
    cpuLimits: millicores(b.cpu.limits),
    memoryRequests: bytes(b.memory.requests),
    memoryLimits: bytes(b.memory.limits),
    pods: b.pods,
    persistentVolumeClaims: b.persistentVolumeClaims,
    storage: bytes(b.storage),
  };
}

/** The least a quota may allow: the maximum plus {@link QUOTA_HEADROOM}, rounded up. */
export function requiredQuantities(max: Quantities): Quantities {
  const q = zero();
  for (const d of DIMENSIONS) q[d] = Math.ceil(max[d] * (1 + QUOTA_HEADROOM));
  return q;
}

export interface EnvironmentWorkloads {
  app: PodGroup[];
  infra: PodGroup[];
}

type Release = DeploymentConfig["app"]["release"];

/**
 * The release strategy whose Deployments are largest: two full-size variants, as in a blue/green
 * switch under load (the new colour scales up at once, the old one down over minutes) or a canary at
 * 100%. The strategy is deployment config, switched without touching the stack file (a rollback is a
 * blue/green switch): the quota holds any of them.
 */
export const LARGEST_RELEASE: Release = { strategy: "blueGreen", blueImage: "sizing.invalid/app:0", greenImage: "sizing.invalid/app:0", active: "blue" };

/**
 * Every pod group of the environment's two namespaces, at their maximum sizes, for `release`
 * (default: {@link LARGEST_RELEASE}, what the quotas are checked against).
 */
export function environmentWorkloads(spec: EnvironmentSpec, release: Release = LARGEST_RELEASE): EnvironmentWorkloads {
  const m = MONITORING_RESOURCES;
  const one = (name: string, containers: ContainerResources[]): PodGroup => ({ name, replicas: 1, surge: surgeOf(DEFAULT_MAX_SURGE, 1), containers });
  // Image references do not change sizes; the strategy does (a canary, or a second full colour).
  const image = "sizing.invalid/app:0";
  const images = release.strategy === "canary" ? { ...release, canaryImage: image } : release.strategy === "blueGreen" ? { ...release, blueImage: image, greenImage: image } : release;
  const app: PodGroup[] = [
    ...releaseVariants("web", image, images, spec.app.replicas, spec.app.maxReplicas).map((v) => ({
      name: v.name,
      replicas: v.maxReplicas,
      surge: surgeOf(APP_ROLLING_UPDATE.maxSurge, v.maxReplicas),
      containers: [spec.app.resources],
    })),
    // The chart's rolling update adds one pod (none where one pod per node is required).
    { name: "traefik", replicas: spec.edge.traefikReplicas, surge: 1, containers: [TRAEFIK_RESOURCES] },
    {
      name: "prometheus",
      replicas: spec.monitoring.prometheusReplicas,
      surge: 0,
      containers: [m.prometheus, m.configReloader],
      initContainers: [m.configReloader],
      volumes: [spec.monitoring.prometheusStorage],
    },
    {
      name: "alertmanager",
      replicas: spec.monitoring.alertmanagerReplicas,
      surge: 0,
      containers: [m.alertmanager, m.configReloader],
      initContainers: [m.configReloader],
      volumes: [ALERTMANAGER_STORAGE],
    },
    { name: "grafana", replicas: spec.monitoring.grafanaReplicas, surge: surgeOf(DEFAULT_MAX_SURGE, spec.monitoring.grafanaReplicas), containers: [m.grafana, m.small, m.small] },
    one("prometheus-operator", [m.small]),
    one("kube-state-metrics", [m.small]),
  ];

  const r = spec.redis;
  const infra: PodGroup[] = [
    one("strimzi-cluster-operator", [STRIMZI_OPERATOR_RESOURCES]),
    ...kafkaNodePools(spec.kafka).map((p) => ({ name: `kafka pool ${p.name}`, replicas: p.replicas, surge: 0, containers: [p.resources], volumes: [p.storage] })),
    one("kafka entity operator", [ENTITY_OPERATOR_RESOURCES, ENTITY_OPERATOR_RESOURCES]),
    one("kafka exporter", [KAFKA_EXPORTER_RESOURCES]),
    one("psmdb-operator", [PSMDB_OPERATOR_RESOURCES]),
    {
      name: "mongodb members",
      replicas: spec.mongodb.members,
      surge: 0,
      containers: [spec.mongodb.resources, MONGODB_EXPORTER_RESOURCES, MONGODB_BACKUP_AGENT_RESOURCES],
      volumes: [spec.mongodb.storage],
    },
    one("redis-operator", [REDIS_OPERATOR_RESOURCES]),
    {
      name: "redis nodes",
      replicas: r.leaders * (1 + r.followersPerLeader),
      surge: 0,
      containers: [r.resources, REDIS_EXPORTER_RESOURCES],
      volumes: [r.storage, REDIS_NODE_CONF_STORAGE],
    },
  ];
  return { app, infra };
}

/** cert-manager's three Deployments at `replicas` each (the chart's default rolling update). */
export function certManagerWorkloads(replicas = 2): PodGroup[] {
  return (Object.entries(CERT_MANAGER_RESOURCES) as [string, ContainerResources][]).map(([name, res]) => ({
    name: `cert-manager ${name}`,
    replicas,
    surge: surgeOf(DEFAULT_MAX_SURGE, replicas),
    containers: [res],
  }));
}

/**
 * cert-manager's fixed quota ({@link CERT_MANAGER_BUDGET}) against its Deployments at `replicas` (a
 * cluster stack's `certManager.replicas`), for the cluster stack's configuration check.
 */
export function certManagerQuotaProblems(stack: string, replicas: number): ConfigProblem[] {
  return budgetProblems({ source: `stacks/${stack}.ts (certManager.replicas = ${replicas})`, key: "CERT_MANAGER_BUDGET" }, CERT_MANAGER_BUDGET, certManagerWorkloads(replicas));
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/** A dimension's value for people: CPU in cores, memory and storage in Gi, counts as they are. */
export function formatQuantity(d: Dimension, v: number): string {
  if (d === "cpuRequests" || d === "cpuLimits") return `${trim(v / 1000)} CPU`;
  if (d === "memoryRequests" || d === "memoryLimits" || d === "storage") return `${trim(v / BINARY.Gi)}Gi`;
  return String(v);
}

/** The smallest quantity a stack file can write that is at least `v`: whole tenths of a CPU, whole Gi. */
export function suggestedQuantity(d: Dimension, v: number): string | number {
  if (d === "cpuRequests" || d === "cpuLimits") return trim(Math.ceil(v / 100) / 10);
  if (d === "memoryRequests" || d === "memoryLimits" || d === "storage") return `${Math.ceil(v / BINARY.Gi)}Gi`;
  return v;
}

/** The three largest contributions to a dimension, for the message: `web 25 pods 50 CPU`. */
function contributors(groups: PodGroup[], d: Dimension): string {
  return groups
    .map((g) => ({ g, q: groupQuantities(g) }))
    .filter(({ q }) => q[d] > 0)
    .sort((a, b) => b.q[d] - a.q[d])
    .slice(0, 3)
    .map(({ g, q }) => `${g.name} ${q.pods} pod${q.pods === 1 ? "" : "s"} ${formatQuantity(d, q[d])}`)
    .join(", ");
}

/** Problems of one namespace's quota against what can run in it, one per dimension short. */
export function budgetProblems(where: { source: string; key: string }, budget: NamespaceBudget, groups: PodGroup[]): ConfigProblem[] {
  const have = budgetQuantities(budget);
  const max = namespaceMaximum(groups);
  const need = requiredQuantities(max);
  return DIMENSIONS.filter((d) => have[d] < need[d]).map((d) => {
    const written = BUDGET_KEYS[d].split(".").reduce<any>((o, k) => o[k], budget);
    return {
      source: where.source,
      key: `${where.key}.${BUDGET_KEYS[d]}`,
      value: JSON.stringify(written),
      expected: `at least ${JSON.stringify(suggestedQuantity(d, need[d]))}: at most ${formatQuantity(d, max[d])} runs in the namespace at once (${contributors(groups, d)}, ...) plus ${QUOTA_HEADROOM * 100}% headroom`,
    };
  });
}

/**
 * Every namespace quota of the stack checked against the computed maximum plus headroom: the app
 * namespace (the app's two largest variants at their autoscaler's maximum with surge, Traefik,
 * monitoring), the infra namespace (operators, brokers, members, Redis nodes with their sidecars).
 */
export function quotaProblems(stack: string, spec: EnvironmentSpec): ConfigProblem[] {
  const w = environmentWorkloads(spec);
  const source = `stacks/${stack}.ts`;
  return [
    ...budgetProblems({ source, key: "namespaces.app" }, spec.namespaces.app, w.app),
    ...budgetProblems({ source, key: "namespaces.infra" }, spec.namespaces.infra, w.infra),
  ];
}

export interface HeadroomRow {
  namespace: string;
  dimension: Dimension;
  budget: number;
  maximum: number;
  /** How far the budget is above the maximum, as a share of the maximum (0.1: 10% more); Infinity when nothing runs. */
  headroom: number;
}

/** The budget, the maximum and the headroom of every dimension of the stack's two namespaces. */
export function headroomReport(spec: EnvironmentSpec, release?: Release): HeadroomRow[] {
  const w = environmentWorkloads(spec, release);
  return (["app", "infra"] as const).flatMap((ns) => {
    const have = budgetQuantities(spec.namespaces[ns]);
    const max = namespaceMaximum(w[ns]);
    return DIMENSIONS.map((d) => ({ namespace: ns, dimension: d, budget: have[d], maximum: max[d], headroom: max[d] === 0 ? Infinity : (have[d] - max[d]) / max[d] }));
  });
}
