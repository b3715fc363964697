/**
 * Workload controls: Pod Security Standards `restricted`, read-only root filesystems, resources,
 * pinned images, probes, service account tokens, disruption budgets and spread.
 */
import { describe, resourceControl, stackControl, subjectOf, type Findings, type Subject } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import {
  OPERATOR_POD_TYPES,
  T,
  WORKLOAD_TYPES,
  asArray,
  get,
  isObject,
  k8sName,
  namespaceOf,
  operatorPods,
  parseImage,
  podsOf,
  renderedByChart,
  selectorMatches,
  workloadPods,
  type ContainerView,
  type PodView,
} from "../lib/k8s";

const POD_TYPES = [...WORKLOAD_TYPES, ...OPERATOR_POD_TYPES];

/** Volume types Pod Security `restricted` allows. */
const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);
const SAFE_SECCOMP = new Set(["RuntimeDefault", "Localhost"]);

const OPERATOR_DEFAULT = "(not declared: the operator's default, see operator-pods-restricted)";

function scPath(c: ContainerView): string {
  return c.securityContextPath ?? `${c.where}.securityContext`;
}

function checkPodSecurity(s: Subject, pod: PodView, f: Findings): void {
  const psc = pod.securityContext;
  for (const key of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    const v = pod[key];
    if (v !== undefined || pod.source === "workload")
      f.expect(v !== true, s, `${pod.where}.${key}`, v ?? false, "host namespaces are forbidden (Pod Security restricted)");
  }
  if (pod.volumes.length > 0) {
    const kinds = pod.volumes.map((v: any) => Object.keys(v ?? {}).find((k) => k !== "name") ?? "unknown");
    const bad = kinds.filter((k) => !RESTRICTED_VOLUME_TYPES.has(k));
    f.expect(bad.length === 0, s, `${pod.where}.volumes`, kinds, `volume types ${bad.join(", ")} are not allowed by Pod Security restricted (no hostPath)`);
  }
  // What an operator's resource leaves out, the operator decides: operator-pods-restricted checks
  // that it is configured to decide safely.
  if (psc === undefined && pod.source === "operator") f.pass(s, pod.securityContextPath, OPERATOR_DEFAULT);
  for (const c of pod.containers) {
    const sc = c.securityContext;
    const path = scPath(c);
    if (sc === undefined && c.role === "operator-managed") {
      f.pass(s, path, OPERATOR_DEFAULT);
      continue;
    }
    if (sc !== undefined && !isObject(sc)) {
      f.fail(s, path, sc, "a container security context must be an object");
      continue;
    }
    if (sc?.privileged !== undefined) f.expect(sc.privileged !== true, s, `${path}.privileged`, sc.privileged, "privileged containers are forbidden");
    f.expect(sc?.allowPrivilegeEscalation === false, s, `${path}.allowPrivilegeEscalation`, sc?.allowPrivilegeEscalation, "allowPrivilegeEscalation must be false");
    const drop = asArray<string>(sc?.capabilities?.drop);
    f.expect(drop.includes("ALL"), s, `${path}.capabilities.drop`, sc?.capabilities?.drop, 'capabilities must drop "ALL"');
    const add = asArray<string>(sc?.capabilities?.add).filter((a) => a !== "NET_BIND_SERVICE");
    if (add.length > 0) f.fail(s, `${path}.capabilities.add`, sc?.capabilities?.add, "only NET_BIND_SERVICE may be added");

    if (pod.source === "operator" && psc === undefined && (sc.runAsNonRoot === undefined || sc.seccompProfile === undefined)) {
      // Pod-level fields are the operator's: only what the container declares can be judged here.
      f.pass(s, `${path}.runAsNonRoot`, OPERATOR_DEFAULT);
      continue;
    }
    const nonRoot = sc?.runAsNonRoot ?? psc?.runAsNonRoot;
    const user = sc?.runAsUser ?? psc?.runAsUser;
    f.expect(nonRoot === true && user !== 0, s, `${path}.runAsNonRoot`, { runAsNonRoot: nonRoot, runAsUser: user }, "the container must run as non-root (runAsNonRoot true on the container or the pod, never runAsUser 0)");
    const seccomp = sc?.seccompProfile?.type ?? psc?.seccompProfile?.type;
    f.expect(SAFE_SECCOMP.has(seccomp), s, `${path}.seccompProfile.type`, seccomp, "seccompProfile must be RuntimeDefault or Localhost (on the container or the pod)");
    const hostPorts = asArray(c.ports).filter((p: any) => p?.hostPort !== undefined && p.hostPort !== 0);
    if (hostPorts.length > 0) f.fail(s, `${c.where}.ports`, hostPorts, "hostPort is forbidden");
  }
}

export const podSecurityRestricted = resourceControl({
  name: "pod-security-restricted",
  description:
    "Every pod template (workloads, and the pods operators create from MongoDB, Kafka and Redis resources) meets Pod Security Standards restricted: non-root, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault, no host namespaces, host paths or host ports.",
  severity: "high",
  refs: [PCI.securityParameters, PCI.necessaryOnly, GDPR.integrity, GDPR.byDesign],
  remediation:
    "Set securityContext on the pod (runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}) and on every container (allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}); remove hostNetwork/hostPID/hostIPC, hostPath volumes and hostPort.",
  appliesTo: POD_TYPES,
  check: (s, f) => podsOf(s).forEach((pod) => checkPodSecurity(s, pod, f)),
});

/** True when the stack configures the Strimzi operator with its `restricted` pod security provider. */
function strimziRestricted(all: Subject[]): Subject | undefined {
  const restricted = (env: unknown) => asArray(env).some((e: any) => e?.name === "STRIMZI_POD_SECURITY_PROVIDER_CLASS" && e?.value === "restricted");
  return all.find(
    (r) =>
      ((r.type === T.helmChart || r.type === T.helmRelease) && /strimzi-kafka-operator/.test(String(r.props?.chart ?? "")) && restricted(r.props?.values?.extraEnvs)) ||
      (r.type === T.deployment && workloadPods(r).some((p) => p.containers.some((c) => restricted(c.env)))),
  );
}

export const operatorPodsRestricted = stackControl({
  name: "operator-pods-restricted",
  description:
    "Pods that operators create (MongoDB, Kafka, Redis) meet Pod Security restricted even where their resource declares no security context: Strimzi runs its restricted pod security provider; Percona and OT resources declare the contexts themselves.",
  severity: "high",
  refs: [PCI.securityParameters, PCI.configStandards, GDPR.byDesign],
  remediation:
    "Set STRIMZI_POD_SECURITY_PROVIDER_CLASS=restricted on the Strimzi operator (chart extraEnvs), or declare template.pod.securityContext and the container templates; declare podSecurityContext and containerSecurityContext on PerconaServerMongoDB replsets, podSecurityContext and per-role securityContext on RedisCluster.",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const crs = all.filter((r) => OPERATOR_POD_TYPES.includes(r.type));
    if (crs.length === 0) return { notApplicable: "the stack declares no operator-managed pods" };
    const strimzi = strimziRestricted(all);
    for (const s of crs) {
      const byStrimzi = s.type === T.kafka || s.type === T.kafkaNodePool;
      let undeclared = 0;
      for (const pod of operatorPods(s)) {
        const gaps = [
          ...(pod.securityContext === undefined ? [pod.securityContextPath] : []),
          ...pod.containers.filter((c) => c.role === "operator-managed" && c.securityContext === undefined).map(scPath),
        ];
        for (const path of gaps) {
          undeclared++;
          const ownerPath = path.replace(/^spec\.template\./, "spec.kafka.template.");
          const owner = pod.inheritsFrom ? all.find((k) => k.type === T.kafka && k8sName(k) === pod.labels["strimzi.io/cluster"] && namespaceOf(k) === namespaceOf(s)) : undefined;
          if (owner && get(owner.props, ownerPath) !== undefined) f.pass(s, path, `(inherited from ${describe(owner)} ${ownerPath})`);
          else if (byStrimzi && strimzi) f.pass(s, path, `(set by Strimzi's restricted pod security provider, ${describe(strimzi)})`);
          else f.fail(s, path, undefined, "must be declared on the custom resource (runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation false, capabilities drop ALL): this operator has no restricted mode of its own");
        }
      }
      if (undeclared === 0) f.pass(s, "security contexts", "(all declared on the resource)");
    }
  },
});

export const readOnlyRootFilesystem = resourceControl({
  name: "read-only-root-filesystem",
  description:
    "Containers run with a read-only root filesystem (writable paths as emptyDir volumes). On operator resources, a container context that is declared must not turn it off.",
  severity: "medium",
  refs: [PCI.securityParameters, GDPR.integrity],
  remediation: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes (/tmp, caches).",
  appliesTo: POD_TYPES,
  check: (s, f) => {
    for (const pod of podsOf(s))
      for (const c of pod.containers) {
        const v = c.securityContext?.readOnlyRootFilesystem;
        const path = `${scPath(c)}.readOnlyRootFilesystem`;
        // Operators (Percona, Strimzi, OT) choose the filesystem layout of their images: only an
        // explicit opt-out on their resources is a finding.
        if (pod.source === "operator" && c.role === "operator-managed" && v === undefined) f.pass(s, path, "(operator default)");
        else f.expect(v === true, s, path, v, "readOnlyRootFilesystem must be true");
      }
  },
});

function isSet(v: unknown): boolean {
  return (typeof v === "string" && v !== "") || typeof v === "number";
}

export const containerResources = resourceControl({
  name: "container-resources",
  description: "Every container declares CPU and memory requests and a memory limit, so that no workload can starve another.",
  severity: "medium",
  refs: [PCI.configStandards, GDPR.resilience],
  remediation: "Set resources.requests.cpu, resources.requests.memory and resources.limits.memory on every container (or on the operator resource's resources field).",
  appliesTo: POD_TYPES,
  check: (s, f) => {
    for (const pod of podsOf(s))
      for (const c of pod.containers) {
        // The Kafka resource's broker template holds no resources: node pools do (checked there).
        if (c.role === "operator-managed" && c.resourcesPath === undefined) continue;
        const r = c.resources;
        const path = c.resourcesPath ?? `${c.where}.resources`;
        const ok = isSet(r?.requests?.cpu) && isSet(r?.requests?.memory) && isSet(r?.limits?.memory);
        f.expect(ok, s, path, r, "requests.cpu, requests.memory and limits.memory must be set");
      }
  },
});

const EXACT_VERSION = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;

function checkImage(s: Subject, f: Findings, path: string, image: unknown, requireDigest: boolean): void {
  if (typeof image !== "string" || image === "") {
    f.fail(s, path, image, "an explicit image reference is required");
    return;
  }
  const { tag, digest } = parseImage(image);
  if (!tag && !digest) f.fail(s, path, image, "the image must carry an explicit tag (never the implicit latest)");
  else if (tag === "latest") f.fail(s, path, image, 'the image tag must not be "latest"');
  else if (requireDigest && !digest) f.fail(s, path, image, "in production the image must be pinned by digest (@sha256:...)");
  else f.pass(s, path, image);
}

export const imagesPinned = resourceControl({
  name: "images-pinned",
  description:
    "Every image is referenced by an explicit version, never latest; in production the platform's own workload images are pinned by digest. Operator-managed images are pinned through the resource's version or image field; Helm charts, and the images they render, through an exact chart version.",
  severity: "high",
  refs: [PCI.inventory, PCI.patching, PCI.changeControl],
  remediation: "Pin the image as registry/repo:version@sha256:digest (digest required in production) and the chart version exactly in infra/versions.ts.",
  settings: ["production"],
  appliesTo: [...POD_TYPES, T.helmChart, T.helmRelease],
  check: (s, f, settings) => {
    if (s.type === T.helmChart || s.type === T.helmRelease) {
      const v = s.props.version;
      f.expect(typeof v === "string" && EXACT_VERSION.test(v), s, "version", v, "the chart version must be pinned exactly (no range, no empty version)");
      return;
    }
    // A chart's objects are pinned by its exact version (checked on the chart); their images' tags
    // are the chart's, so a digest is required only of the images the platform chooses itself.
    const requireDigest = settings.production && !renderedByChart(s.urn);
    for (const pod of workloadPods(s)) for (const c of pod.containers) checkImage(s, f, `${c.where}.image`, c.image, requireDigest);
    const seen = new Set<string>();
    for (const pod of operatorPods(s))
      for (const c of pod.containers) {
        const path = c.imagePath ?? `${c.where}.image`;
        if (seen.has(path)) continue;
        seen.add(path);
        // Operators map a version to the images they have certified (Strimzi has no image field
        // at all), so a digest is not required here; a version is.
        if (path.endsWith(".version")) f.expect(isSet(c.image), s, path, c.image, "the operator's version must be set so that it selects a pinned image");
        else if (c.role === "sidecar" || c.image !== undefined) checkImage(s, f, path, c.image, false);
      }
  },
});

export const probesOnServingContainers = resourceControl({
  name: "probes-on-serving-containers",
  description: "Every long-running container that exposes a port has readiness and liveness probes, so that traffic only reaches healthy pods and hung ones restart.",
  severity: "medium",
  refs: [GDPR.resilience, PCI.configStandards],
  remediation: "Add readinessProbe and livenessProbe (and a startupProbe for slow starts) to every container that declares ports.",
  appliesTo: WORKLOAD_TYPES,
  check: (s, f) => {
    for (const pod of workloadPods(s)) {
      if (!pod.longRunning) continue;
      for (const c of pod.containers) {
        if (c.role !== "container" || asArray(c.ports).length === 0) continue;
        f.expect(c.readinessProbe !== undefined, s, `${c.where}.readinessProbe`, c.readinessProbe, "a serving container needs a readiness probe");
        f.expect(c.livenessProbe !== undefined, s, `${c.where}.livenessProbe`, c.livenessProbe, "a serving container needs a liveness probe");
      }
    }
  },
});

export const serviceAccountTokens = resourceControl({
  name: "service-account-token-not-automounted",
  description:
    "Pods do not receive a Kubernetes API token unless they run under a dedicated service account: automountServiceAccountToken is false, or serviceAccountName names an explicit identity.",
  severity: "medium",
  refs: [PCI.systemAccounts, PCI.leastPrivilege, GDPR.byDesign],
  remediation: "Set automountServiceAccountToken: false on the pod template, or give the workload its own ServiceAccount with the least RBAC it needs.",
  appliesTo: WORKLOAD_TYPES,
  check: (s, f) => {
    for (const pod of workloadPods(s)) {
      const sa = pod.serviceAccountName;
      const ok = pod.automountServiceAccountToken === false || (typeof sa === "string" && sa !== "" && sa !== "default");
      f.expect(ok, s, `${pod.where}.automountServiceAccountToken`, { automountServiceAccountToken: pod.automountServiceAccountToken, serviceAccountName: sa }, "the default service account token must not be mounted");
    }
  },
});

function hasSpread(pod: PodView): boolean {
  return (pod.topologySpreadConstraints ?? []).length > 0 || isObject(pod.affinity?.podAntiAffinity);
}

/** Replicas of a Deployment/StatefulSet, or the minimum of the autoscaler that owns it. */
function effectiveReplicas(s: Subject, pod: PodView, resources: Subject[]): number {
  if (pod.replicas !== undefined) return pod.replicas;
  const hpa = resources.find(
    (r) => r.type === T.hpa && namespaceOf(r) === namespaceOf(s) && r.props?.spec?.scaleTargetRef?.kind === s.props?.kind && r.props?.spec?.scaleTargetRef?.name === k8sName(s),
  );
  const min = hpa?.props?.spec?.minReplicas;
  return typeof min === "number" ? min : 1;
}

/** Where charts keep the replicas, disruption budget and spread of the workloads they render. */
interface ChartWorkload {
  name: string;
  replicas: string;
  pdb: (values: any) => boolean;
  pdbPath: string;
  spread: string[];
}

const nonEmpty = (v: unknown) => (typeof v === "string" ? v !== "" : Array.isArray(v) ? v.length > 0 : isObject(v) && Object.keys(v).length > 0);

const CHART_WORKLOADS: Record<string, ChartWorkload[]> = {
  traefik: [{ name: "traefik", replicas: "deployment.replicas", pdb: (v) => get(v, "podDisruptionBudget.enabled") === true, pdbPath: "podDisruptionBudget.enabled", spread: ["affinity.podAntiAffinity", "topologySpreadConstraints"] }],
  "kube-prometheus-stack": [
    {
      name: "alertmanager",
      replicas: "alertmanager.alertmanagerSpec.replicas",
      pdb: (v) => get(v, "alertmanager.podDisruptionBudget.enabled") === true,
      pdbPath: "alertmanager.podDisruptionBudget.enabled",
      // `podAntiAffinity: soft|hard` is the chart's preset; its default "" sets none.
      spread: ["alertmanager.alertmanagerSpec.podAntiAffinity", "alertmanager.alertmanagerSpec.affinity.podAntiAffinity", "alertmanager.alertmanagerSpec.topologySpreadConstraints"],
    },
    {
      name: "prometheus",
      replicas: "prometheus.prometheusSpec.replicas",
      pdb: (v) => get(v, "prometheus.podDisruptionBudget.enabled") === true,
      pdbPath: "prometheus.podDisruptionBudget.enabled",
      spread: ["prometheus.prometheusSpec.podAntiAffinity", "prometheus.prometheusSpec.affinity.podAntiAffinity", "prometheus.prometheusSpec.topologySpreadConstraints"],
    },
    {
      name: "grafana",
      replicas: "grafana.replicas",
      pdb: (v) => nonEmpty(get(v, "grafana.podDisruptionBudget")),
      pdbPath: "grafana.podDisruptionBudget",
      spread: ["grafana.affinity.podAntiAffinity", "grafana.topologySpreadConstraints"],
    },
  ],
};

export const disruptionBudgetAndSpread = stackControl({
  name: "disruption-budget-and-spread",
  description:
    "Anything running 2 or more replicas (Deployments, StatefulSets, MongoDB replica sets, Kafka node pools, Redis leaders and followers) has a PodDisruptionBudget and is spread across nodes or zones.",
  severity: "medium",
  refs: [GDPR.resilience, GDPR.restore, PCI.configStandards],
  remediation:
    "Add a PodDisruptionBudget selecting the pods (or the operator's pdb/podDisruptionBudget field) and topologySpreadConstraints or podAntiAffinity (Percona: affinity.antiAffinityTopologyKey; Strimzi: spec.kafka.rack).",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const pdbs = all.filter((r) => r.type === T.pdb);
    let inScope = 0;
    for (const s of all) {
      if (s.type === T.deployment || s.type === T.statefulSet) {
        for (const pod of workloadPods(s)) {
          const replicas = effectiveReplicas(s, pod, all);
          if (replicas < 2) continue;
          inScope++;
          const pdb = pdbs.find((p) => namespaceOf(p) === namespaceOf(s) && selectorMatches(p.props?.spec?.selector, pod.labels));
          f.expect(!!pdb, s, "PodDisruptionBudget", pdb ? k8sName(pdb) : undefined, `${replicas} replicas need a PodDisruptionBudget selecting their pods`);
          f.expect(hasSpread(pod), s, `${pod.where}.topologySpreadConstraints`, pod.topologySpreadConstraints?.length ? pod.topologySpreadConstraints : pod.affinity?.podAntiAffinity, `${replicas} replicas must be spread (topologySpreadConstraints or podAntiAffinity)`);
        }
      } else if (s.type === T.psmdb) {
        asArray(s.props?.spec?.replsets).forEach((rs: any, i: number) => {
          if (!(typeof rs?.size === "number" && rs.size >= 2)) return;
          inScope++;
          const at = `spec.replsets[${i}]`;
          const pdb = rs.podDisruptionBudget;
          f.expect(isObject(pdb) && (pdb.maxUnavailable !== undefined || pdb.minAvailable !== undefined), s, `${at}.podDisruptionBudget`, pdb, `a replica set of ${rs.size} needs a disruption budget`);
          const spread = typeof rs.affinity?.antiAffinityTopologyKey === "string" && rs.affinity.antiAffinityTopologyKey !== "none";
          f.expect(spread || isObject(rs.affinity?.advanced) || asArray(rs.topologySpreadConstraints).length > 0, s, `${at}.affinity`, rs.affinity, "replica set members must be spread (antiAffinityTopologyKey, advanced affinity or topologySpreadConstraints)");
        });
      } else if (s.type === T.redisCluster) {
        for (const pod of operatorPods(s)) {
          if ((pod.replicas ?? 0) < 2) continue;
          inScope++;
          const pdb = get(s.props, `${pod.where}.pdb`);
          f.expect(pdb?.enabled === true, s, `${pod.where}.pdb`, pdb, `${pod.replicas} Redis pods need a disruption budget (pdb.enabled)`);
          f.expect(hasSpread(pod), s, `${pod.where}.affinity`, pod.affinity ?? pod.topologySpreadConstraints, "Redis pods must be spread (podAntiAffinity or topologySpreadConstraints)");
        }
      } else if (s.type === T.kafkaNodePool) {
        const pod = operatorPods(s)[0];
        if ((pod.replicas ?? 0) < 2) continue;
        inScope++;
        const cluster = s.props?.metadata?.labels?.["strimzi.io/cluster"];
        const kafka = all.find((k) => k.type === T.kafka && k8sName(k) === cluster && namespaceOf(k) === namespaceOf(s));
        // Strimzi creates a PodDisruptionBudget per cluster (maxUnavailable 1 unless the template changes it).
        const pdbTemplate = kafka?.props?.spec?.kafka?.template?.podDisruptionBudget;
        f.expect(pdbTemplate?.maxUnavailable === undefined || pdbTemplate.maxUnavailable < (pod.replicas ?? 0), s, "PodDisruptionBudget (created by Strimzi)", pdbTemplate ?? "maxUnavailable 1 (Strimzi default)", "the Kafka disruption budget must keep a quorum");
        // Rack awareness alone no longer spreads pods (Strimzi 0.49+): a constraint must be declared.
        const kafkaPod = kafka ? operatorPods(kafka)[0] : undefined;
        const declared = hasSpread(pod) ? pod : kafkaPod && hasSpread(kafkaPod) ? kafkaPod : undefined;
        f.expect(!!declared, s, "template.pod.topologySpreadConstraints", declared?.topologySpreadConstraints?.length ? declared.topologySpreadConstraints : declared?.affinity?.podAntiAffinity, "Kafka nodes must be spread: topologySpreadConstraints or podAntiAffinity in the node pool's or the Kafka resource's pod template");
      }
    }
    // Charts' workloads, from their values (the CLI also sees the objects they render).
    for (const s of all.filter((r) => r.type === T.helmChart || r.type === T.helmRelease)) {
      const chart = String(s.props?.chart ?? "").split("/").pop() ?? "";
      for (const w of CHART_WORKLOADS[chart] ?? []) {
        const values = s.props?.values ?? {};
        const replicas = get(values, w.replicas);
        if (!(typeof replicas === "number" && replicas >= 2)) continue;
        inScope++;
        f.expect(w.pdb(values), s, `values.${w.pdbPath}`, get(values, w.pdbPath), `${w.name}'s ${replicas} replicas need a disruption budget`);
        const spread = w.spread.find((p) => nonEmpty(get(values, p)));
        f.expect(!!spread, s, `values.${spread ?? w.spread[0]}`, get(values, spread ?? w.spread[0]), `${w.name}'s ${replicas} replicas must be spread (one of ${w.spread.join(", ")})`);
      }
    }
    if (inScope === 0) return { notApplicable: "nothing runs 2 or more replicas" };
  },
});

export const workloadControls = [podSecurityRestricted, operatorPodsRestricted, readOnlyRootFilesystem, containerResources, imagesPinned, probesOnServingContainers, serviceAccountTokens, disruptionBudgetAndSpread];
