/**
 * Kubernetes knowledge the controls share: where pod templates live in workloads and in the custom
 * resources of the operators the platform uses, label selectors, and resource type tokens.
 */
import type { Subject } from "./control";

export const T = {
  namespace: "kubernetes:core/v1:Namespace",
  pod: "kubernetes:core/v1:Pod",
  service: "kubernetes:core/v1:Service",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  pvc: "kubernetes:core/v1:PersistentVolumeClaim",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  helmChart: "kubernetes:helm.sh/v4:Chart",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  psmdb: "kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB",
  kafka: "kubernetes:kafka.strimzi.io/v1:Kafka",
  kafkaNodePool: "kubernetes:kafka.strimzi.io/v1:KafkaNodePool",
  kafkaTopic: "kubernetes:kafka.strimzi.io/v1:KafkaTopic",
  kafkaUser: "kubernetes:kafka.strimzi.io/v1:KafkaUser",
  redisCluster: "kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisCluster",
  ingressRoute: "kubernetes:traefik.io/v1alpha1:IngressRoute",
  middleware: "kubernetes:traefik.io/v1alpha1:Middleware",
  tlsOption: "kubernetes:traefik.io/v1alpha1:TLSOption",
  stack: "pulumi:pulumi:Stack",
  atlasProject: "mongodbatlas:index/project:Project",
  atlasAdvancedCluster: "mongodbatlas:index/advancedCluster:AdvancedCluster",
  atlasCluster: "mongodbatlas:index/cluster:Cluster",
  atlasEncryption: "mongodbatlas:index/encryptionAtRest:EncryptionAtRest",
  atlasBackupSchedule: "mongodbatlas:index/cloudBackupSchedule:CloudBackupSchedule",
  atlasAuditing: "mongodbatlas:index/auditing:Auditing",
  atlasAccessList: "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList",
  cloudflareZoneSetting: "cloudflare:index/zoneSetting:ZoneSetting",
  cloudflareZone: "cloudflare:index/zone:Zone",
  cloudflareRuleset: "cloudflare:index/ruleset:Ruleset",
} as const;

export const WORKLOAD_TYPES: string[] = [T.deployment, T.statefulSet, T.daemonSet, T.replicaSet, T.job, T.cronJob, T.pod];
export const OPERATOR_POD_TYPES: string[] = [T.psmdb, T.kafka, T.kafkaNodePool, T.redisCluster];
export const ATLAS_CLUSTER_TYPES: string[] = [T.atlasAdvancedCluster, T.atlasCluster];

/** Reads `a.b[0].c` from an object; undefined when any step is missing. */
export function get(obj: unknown, path: string): any {
  let cur: any = obj;
  for (const seg of path.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== "")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = cur[seg];
  }
  return cur;
}

export function asArray<T = any>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

export function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The namespace of a Kubernetes object (`metadata.namespace`). */
export function namespaceOf(s: Subject): string | undefined {
  const ns = s.props?.metadata?.namespace;
  return typeof ns === "string" ? ns : undefined;
}

export function k8sName(s: Subject): string {
  const n = s.props?.metadata?.name;
  return typeof n === "string" ? n : s.name;
}

/** One container as the controls see it, wherever it is declared. */
export interface ContainerView {
  /** Property path of the container, from the resource's root (`spec.template.spec.containers[0]`). */
  where: string;
  name: string;
  role: "container" | "init" | "ephemeral" | "sidecar" | "operator-managed";
  image?: unknown;
  /** Undefined when the manifest does not declare it. */
  securityContext?: any;
  resources?: any;
  ports?: any[];
  env?: any[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  /** Where `securityContext` is declared, when it is not at `${where}.securityContext`. */
  securityContextPath?: string;
  resourcesPath?: string;
  imagePath?: string;
}

/** One pod template: of a workload, or of a pod an operator creates from its custom resource. */
export interface PodView {
  where: string;
  source: "workload" | "operator";
  labels: Record<string, string>;
  /** Desired replicas when the template says (undefined: one, or managed by an autoscaler). */
  replicas?: number;
  replicasPath?: string;
  /** Serves traffic for its lifetime (not a Job). */
  longRunning: boolean;
  securityContext?: any;
  securityContextPath: string;
  hostNetwork?: unknown;
  hostPID?: unknown;
  hostIPC?: unknown;
  volumes: any[];
  automountServiceAccountToken?: unknown;
  serviceAccountName?: unknown;
  affinity?: any;
  topologySpreadConstraints?: any[];
  containers: ContainerView[];
  /** A template of defaults (the Kafka resource's broker template), not a group of pods itself. */
  template?: boolean;
  /**
   * For operator pods: security contexts this pod inherits from another resource (a Strimzi node pool
   * inherits the Kafka resource's template), so an undeclared context is not a finding here.
   */
  inheritsFrom?: string;
}

/** What the controls read of a container spec found at `where`. */
function containerView(c: any, where: string, fallbackName: string, role: ContainerView["role"]): ContainerView {
  return {
    where,
    name: String(c?.name ?? fallbackName),
    role,
    image: c?.image,
    securityContext: c?.securityContext,
    resources: c?.resources,
    ports: asArray(c?.ports),
    env: asArray(c?.env),
    readinessProbe: c?.readinessProbe,
    livenessProbe: c?.livenessProbe,
  };
}

function podSpecView(where: string, spec: any, labels: Record<string, string>, extra: Partial<PodView>): PodView {
  const containers: ContainerView[] = [];
  const add = (list: unknown, key: string, role: ContainerView["role"]) =>
    asArray(list).forEach((c: any, i: number) =>
      containers.push(containerView(c, `${where}.${key}[${i}]`, `${key}[${i}]`, role === "init" && c?.restartPolicy === "Always" ? "sidecar" : role)),
    );
  add(spec?.initContainers, "initContainers", "init");
  add(spec?.containers, "containers", "container");
  add(spec?.ephemeralContainers, "ephemeralContainers", "ephemeral");
  return {
    where,
    source: "workload",
    labels,
    longRunning: true,
    securityContext: spec?.securityContext,
    securityContextPath: `${where}.securityContext`,
    hostNetwork: spec?.hostNetwork,
    hostPID: spec?.hostPID,
    hostIPC: spec?.hostIPC,
    volumes: asArray(spec?.volumes),
    automountServiceAccountToken: spec?.automountServiceAccountToken,
    serviceAccountName: spec?.serviceAccountName,
    affinity: spec?.affinity,
    topologySpreadConstraints: asArray(spec?.topologySpreadConstraints),
    containers,
    ...extra,
  };
}

/** Pod templates of Kubernetes workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod). */
export function workloadPods(s: Subject): PodView[] {
  const p = s.props ?? {};
  switch (s.type) {
    case T.deployment:
    case T.statefulSet:
    case T.replicaSet:
      return [
        podSpecView("spec.template.spec", p.spec?.template?.spec, p.spec?.template?.metadata?.labels ?? {}, {
          replicas: typeof p.spec?.replicas === "number" ? p.spec.replicas : undefined,
          replicasPath: "spec.replicas",
        }),
      ];
    case T.daemonSet:
      return [podSpecView("spec.template.spec", p.spec?.template?.spec, p.spec?.template?.metadata?.labels ?? {}, {})];
    case T.job:
      return [podSpecView("spec.template.spec", p.spec?.template?.spec, p.spec?.template?.metadata?.labels ?? {}, { longRunning: false })];
    case T.cronJob:
      return [
        podSpecView("spec.jobTemplate.spec.template.spec", p.spec?.jobTemplate?.spec?.template?.spec, p.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {}, {
          longRunning: false,
        }),
      ];
    case T.pod:
      return [podSpecView("spec", p.spec, p.metadata?.labels ?? {}, {})];
    default:
      return [];
  }
}

function operatorContainer(where: string, name: string, fields: { securityContext?: [unknown, string]; resources?: [unknown, string]; image?: [unknown, string]; env?: unknown }): ContainerView {
  return {
    where,
    name,
    role: "operator-managed",
    securityContext: fields.securityContext?.[0],
    securityContextPath: fields.securityContext?.[1],
    resources: fields.resources?.[0],
    resourcesPath: fields.resources?.[1],
    image: fields.image?.[0],
    imagePath: fields.image?.[1],
    env: asArray(fields.env),
  };
}

function sidecars(where: string, list: unknown): ContainerView[] {
  return asArray(list).map((c: any, i: number) => containerView(c, `${where}[${i}]`, `sidecar-${i}`, "sidecar"));
}

function operatorPod(where: string, fields: Partial<PodView> & { containers: ContainerView[]; securityContextPath: string }): PodView {
  return { where, source: "operator", labels: {}, longRunning: true, volumes: [], topologySpreadConstraints: [], ...fields };
}

/**
 * The pods an operator creates from its custom resource, with the security contexts, resources and
 * images the resource declares for them. Fields the resource leaves out are the operator's defaults.
 */
export function operatorPods(s: Subject): PodView[] {
  const spec = s.props?.spec ?? {};
  const name = k8sName(s);
  switch (s.type) {
    case T.psmdb: {
      return asArray(spec.replsets).map((rs: any, i: number) => {
        const at = `spec.replsets[${i}]`;
        const containers = [
          operatorContainer(at, "mongod", {
            securityContext: [rs?.containerSecurityContext, `${at}.containerSecurityContext`],
            resources: [rs?.resources, `${at}.resources`],
            image: [spec.image, "spec.image"],
            env: rs?.env,
          }),
          operatorContainer("spec", "mongo-init", {
            securityContext: [spec.initContainerSecurityContext, "spec.initContainerSecurityContext"],
            resources: [rs?.resources, `${at}.resources`],
            image: [spec.initImage ?? spec.image, spec.initImage ? "spec.initImage" : "spec.image"],
          }),
          ...(spec.backup?.enabled
            ? [
                operatorContainer("spec.backup", "backup-agent", {
                  securityContext: [spec.backup?.containerSecurityContext, "spec.backup.containerSecurityContext"],
                  resources: [spec.backup?.resources, "spec.backup.resources"],
                  image: [spec.backup?.image, "spec.backup.image"],
                }),
              ]
            : []),
          ...sidecars(`${at}.sidecars`, rs?.sidecars),
        ];
        return operatorPod(at, {
          // The labels the Percona operator puts on a replica set's pods.
          labels: {
            "app.kubernetes.io/name": "percona-server-mongodb",
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/replset": String(rs?.name ?? ""),
            "app.kubernetes.io/component": "mongod",
            "app.kubernetes.io/managed-by": "percona-server-mongodb-operator",
            "app.kubernetes.io/part-of": "percona-server-mongodb",
          },
          replicas: typeof rs?.size === "number" ? rs.size : undefined,
          replicasPath: `${at}.size`,
          securityContext: rs?.podSecurityContext,
          securityContextPath: `${at}.podSecurityContext`,
          affinity: rs?.affinity,
          topologySpreadConstraints: asArray(rs?.topologySpreadConstraints),
          volumes: asArray(rs?.sidecarVolumes),
          serviceAccountName: rs?.serviceAccountName,
          containers,
        });
      });
    }
    case T.kafka: {
      const pods: PodView[] = [];
      const t = spec.kafka?.template ?? {};
      const strimzi = (component: string, podName: string) => ({
        "strimzi.io/cluster": name,
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": podName,
        "strimzi.io/component-type": component,
      });
      pods.push(
        // With node pools this template holds the brokers' defaults; the pods belong to the pools.
        operatorPod("spec.kafka.template", {
          labels: {},
          template: true,
          securityContext: t.pod?.securityContext,
          securityContextPath: "spec.kafka.template.pod.securityContext",
          affinity: t.pod?.affinity,
          topologySpreadConstraints: asArray(t.pod?.topologySpreadConstraints),
          containers: [
            operatorContainer("spec.kafka.template.kafkaContainer", "kafka", {
              securityContext: [t.kafkaContainer?.securityContext, "spec.kafka.template.kafkaContainer.securityContext"],
              image: [spec.kafka?.image ?? spec.kafka?.version, spec.kafka?.image ? "spec.kafka.image" : "spec.kafka.version"],
              env: t.kafkaContainer?.env,
            }),
          ],
        }),
      );
      const eo = spec.entityOperator;
      if (eo) {
        const et = eo.template ?? {};
        const ops: ContainerView[] = [];
        if (eo.topicOperator)
          ops.push(
            operatorContainer("spec.entityOperator.topicOperator", "topic-operator", {
              securityContext: [et.topicOperatorContainer?.securityContext, "spec.entityOperator.template.topicOperatorContainer.securityContext"],
              resources: [eo.topicOperator?.resources, "spec.entityOperator.topicOperator.resources"],
              image: [eo.topicOperator?.image ?? spec.kafka?.version, eo.topicOperator?.image ? "spec.entityOperator.topicOperator.image" : "spec.kafka.version"],
            }),
          );
        if (eo.userOperator)
          ops.push(
            operatorContainer("spec.entityOperator.userOperator", "user-operator", {
              securityContext: [et.userOperatorContainer?.securityContext, "spec.entityOperator.template.userOperatorContainer.securityContext"],
              resources: [eo.userOperator?.resources, "spec.entityOperator.userOperator.resources"],
              image: [eo.userOperator?.image ?? spec.kafka?.version, eo.userOperator?.image ? "spec.entityOperator.userOperator.image" : "spec.kafka.version"],
            }),
          );
        pods.push(
          operatorPod("spec.entityOperator", {
            labels: strimzi("entity-operator", `${name}-entity-operator`),
            securityContext: et.pod?.securityContext,
            securityContextPath: "spec.entityOperator.template.pod.securityContext",
            containers: ops,
          }),
        );
      }
      for (const [key, container] of [
        // The CRD names the exporter's container template `container` (not `kafkaExporterContainer`).
        ["kafkaExporter", "container"],
        ["cruiseControl", "cruiseControlContainer"],
      ] as const) {
        const part = spec[key];
        if (!part) continue;
        pods.push(
          operatorPod(`spec.${key}`, {
            labels: strimzi(key === "kafkaExporter" ? "kafka-exporter" : "cruise-control", `${name}-${key === "kafkaExporter" ? "kafka-exporter" : "cruise-control"}`),
            securityContext: part.template?.pod?.securityContext,
            securityContextPath: `spec.${key}.template.pod.securityContext`,
            containers: [
              operatorContainer(`spec.${key}`, key, {
                securityContext: [part.template?.[container]?.securityContext, `spec.${key}.template.${container}.securityContext`],
                resources: [part.resources, `spec.${key}.resources`],
                image: [part.image ?? spec.kafka?.version, part.image ? `spec.${key}.image` : "spec.kafka.version"],
              }),
            ],
          }),
        );
      }
      return pods;
    }
    case T.kafkaNodePool: {
      const t = spec.template ?? {};
      const cluster = s.props?.metadata?.labels?.["strimzi.io/cluster"];
      const roles = asArray<string>(spec.roles);
      return [
        operatorPod("spec.template", {
          // The labels Strimzi puts on a node pool's pods.
          labels: {
            "strimzi.io/cluster": String(cluster ?? ""),
            "strimzi.io/kind": "Kafka",
            "strimzi.io/name": `${cluster ?? ""}-kafka`,
            "strimzi.io/component-type": "kafka",
            "strimzi.io/pool-name": name,
            "strimzi.io/broker-role": String(roles.includes("broker")),
            "strimzi.io/controller-role": String(roles.includes("controller")),
          },
          replicas: typeof spec.replicas === "number" ? spec.replicas : undefined,
          replicasPath: "spec.replicas",
          securityContext: t.pod?.securityContext,
          securityContextPath: "spec.template.pod.securityContext",
          affinity: t.pod?.affinity,
          topologySpreadConstraints: asArray(t.pod?.topologySpreadConstraints),
          inheritsFrom: cluster ? `Kafka ${cluster} (spec.kafka.template)` : undefined,
          containers: [
            operatorContainer("spec.template.kafkaContainer", "kafka", {
              securityContext: [t.kafkaContainer?.securityContext, "spec.template.kafkaContainer.securityContext"],
              resources: [spec.resources, "spec.resources"],
              env: t.kafkaContainer?.env,
            }),
          ],
        }),
      ];
    }
    case T.redisCluster: {
      const kc = spec.kubernetesConfig ?? {};
      return (["redisLeader", "redisFollower"] as const).map((role) => {
        const r = spec[role] ?? {};
        const containers: ContainerView[] = [
          operatorContainer(`spec.${role}`, "redis", {
            securityContext: [r.securityContext, `spec.${role}.securityContext`],
            resources: r.resources ? [r.resources, `spec.${role}.resources`] : kc.resources ? [kc.resources, "spec.kubernetesConfig.resources"] : [spec.resources, "spec.resources"],
            image: [kc.image, "spec.kubernetesConfig.image"],
            env: spec.env,
          }),
        ];
        if (spec.redisExporter?.enabled)
          containers.push(
            operatorContainer("spec.redisExporter", "redis-exporter", {
              securityContext: [spec.redisExporter?.securityContext, "spec.redisExporter.securityContext"],
              resources: [spec.redisExporter?.resources, "spec.redisExporter.resources"],
              image: [spec.redisExporter?.image, "spec.redisExporter.image"],
              env: spec.redisExporter?.env,
            }),
          );
        containers.push(...sidecars("spec.sidecars", spec.sidecars));
        return operatorPod(`spec.${role}`, {
          labels: { app: `${name}-${role === "redisLeader" ? "leader" : "follower"}`, redis_setup_type: "cluster", role: role === "redisLeader" ? "leader" : "follower" },
          replicas: typeof r.replicas === "number" ? r.replicas : typeof spec.clusterSize === "number" ? spec.clusterSize : undefined,
          replicasPath: typeof r.replicas === "number" ? `spec.${role}.replicas` : "spec.clusterSize",
          securityContext: spec.podSecurityContext,
          securityContextPath: "spec.podSecurityContext",
          hostNetwork: spec.hostNetwork,
          affinity: r.affinity,
          topologySpreadConstraints: asArray(r.topologySpreadConstraints),
          serviceAccountName: spec.serviceAccountName,
          containers,
        });
      });
    }
    default:
      return [];
  }
}

/** Every pod template a resource declares: a workload's, or those of an operator's custom resource. */
export function podsOf(s: Subject): PodView[] {
  return [...workloadPods(s), ...operatorPods(s)];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label selector semantics; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || !vals.includes(labels[e.key])) return false;
        break;
      case "NotIn":
        if (has && vals.includes(labels[e.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function isEmptySelector(selector: LabelSelector | undefined): boolean {
  return !!selector && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/**
 * True for objects a Helm chart renders (under the CLI, the children of a `helm.sh` Chart): their
 * URN's type chain runs through the chart. Their images are pinned by the exact chart version.
 */
export function renderedByChart(urn: string): boolean {
  const chain = urn.split("::")[2]?.split("$") ?? [];
  return chain.slice(0, -1).some((t) => t.startsWith("kubernetes:helm.sh/"));
}

/** `repo:tag@sha256:...` split into its parts. */
export function parseImage(ref: string): { repository: string; tag?: string; digest?: string } {
  const [nameTag, digest] = ref.split("@");
  const slash = nameTag.lastIndexOf("/");
  const colon = nameTag.lastIndexOf(":");
  const hasTag = colon > slash;
  return { repository: hasTag ? nameTag.slice(0, colon) : nameTag, tag: hasTag ? nameTag.slice(colon + 1) : undefined, digest };
}

/** Walks every leaf of `value`, with its dotted path. */
export function walk(value: unknown, visit: (path: string, key: string, leaf: unknown) => void, path = "", key = ""): void {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, visit, `${path}[${i}]`, key));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, visit, path ? `${path}.${k}` : k, k);
  else visit(path, key, value);
}
