/**
 * Lifecycle controls: what keeps a real `pulumi up` and `pulumi destroy` safe, beyond what a preview
 * shows. Data custom resources are awaited until ready (or explicitly not awaited), pods roll when a
 * Secret or ConfigMap they read changes, custom resources are deleted before what clears their
 * finalizers, and Helm releases have time to come up on a cold cluster.
 */
import { pci, GDPR, PCI } from "../lib/frameworks";
import { resourceControl, stackControl, subjectOf, type Subject } from "../lib/control";
import { T, asArray, isObject, k8sName, namespaceOf, renderedByChart } from "../lib/k8s";

export const AWAIT = { waitFor: "pulumi.com/waitFor", timeoutSeconds: "pulumi.com/timeoutSeconds", skipAwait: "pulumi.com/skipAwait" } as const;

/**
 * What "ready" means for each data custom resource, in the Kubernetes provider's `pulumi.com/waitFor`
 * syntax: Strimzi's Ready condition; Percona's `status.state` (`ready`); OT redis-operator's
 * `status.state` (`Ready`). The program writes the same (components/lifecycle.ts; a test keeps both equal).
 */
export const DATA_READINESS: Readonly<Record<string, string>> = {
  [T.kafka]: "condition=Ready",
  [T.kafkaTopic]: "condition=Ready",
  [T.kafkaUser]: "condition=Ready",
  [T.psmdb]: "jsonpath={.status.state}=ready",
  [T.redisCluster]: "jsonpath={.status.state}=Ready",
};

/** The provider's own default for an awaited custom resource: a cold cluster needs at least that, stated. */
export const MIN_DATA_TIMEOUT_SECONDS = 600;
/** Helm's default (300 s) rolls an atomic release back before a node scale-up and the first image pulls are done. */
export const MIN_HELM_TIMEOUT_SECONDS = 900;

const CHANGE_CONTROL = PCI.changeControl;
const KEY_CHANGES = pci("3.7.4", "Cryptographic key changes for keys that have reached the end of their cryptoperiod are defined and implemented.");

function annotations(s: Subject): Record<string, unknown> {
  const a = s.props?.metadata?.annotations;
  return isObject(a) ? a : {};
}

const at = (key: string) => `metadata.annotations["${key}"]`;

export const dataResourcesAwaited = resourceControl({
  name: "data-resources-awaited",
  description:
    "Every data custom resource (Kafka, KafkaTopic, KafkaUser, PerconaServerMongoDB, RedisCluster) makes `pulumi up` wait until its operator reports it ready (pulumi.com/waitFor on its ready condition, with a timeout of at least 10 minutes), or says explicitly that nothing waits (pulumi.com/skipAwait, for a cluster without nodes). Custom resources are otherwise never awaited: the app would start against stores that do not exist yet.",
  severity: "medium",
  refs: [GDPR.resilience, CHANGE_CONTROL],
  remediation:
    'Annotate through awaitAnnotations() (components/lifecycle.ts): pulumi.com/waitFor "condition=Ready" (Kafka, KafkaTopic, KafkaUser), "jsonpath={.status.state}=ready" (PerconaServerMongoDB), "jsonpath={.status.state}=Ready" (RedisCluster), and pulumi.com/timeoutSeconds; or pulumi.com/skipAwait "true" where kubernetes.awaitReadiness is off.',
  appliesTo: Object.keys(DATA_READINESS),
  check: (s, f) => {
    const a = annotations(s);
    if (a[AWAIT.skipAwait] === "true") {
      f.expect(a[AWAIT.waitFor] === undefined, s, at(AWAIT.skipAwait), "true", "skipping the wait contradicts pulumi.com/waitFor: keep one of them");
      return;
    }
    const expected = DATA_READINESS[s.type];
    f.expect(a[AWAIT.waitFor] === expected, s, at(AWAIT.waitFor), a[AWAIT.waitFor], `pulumi up must wait for "${expected}" (or skip waiting explicitly)`);
    const timeout = Number(a[AWAIT.timeoutSeconds]);
    f.expect(Number.isInteger(timeout) && timeout >= MIN_DATA_TIMEOUT_SECONDS, s, at(AWAIT.timeoutSeconds), a[AWAIT.timeoutSeconds], `the wait needs a stated timeout of at least ${MIN_DATA_TIMEOUT_SECONDS} s (a cold cluster adds nodes and pulls every image)`);
  },
});

/** A Secret or ConfigMap a pod template reads, and where. */
export interface ConfigReference {
  kind: "Secret" | "ConfigMap";
  name: string;
  path: string;
}

/** Every Secret and ConfigMap a pod spec reads: environment, `envFrom`, volumes (projected ones too). */
export function configReferences(podSpec: any, where: string): ConfigReference[] {
  const refs: ConfigReference[] = [];
  const add = (kind: ConfigReference["kind"], name: unknown, path: string) => {
    if (typeof name === "string" && name !== "") refs.push({ kind, name, path });
  };
  for (const key of ["initContainers", "containers"]) {
    asArray(podSpec?.[key]).forEach((c: any, i: number) => {
      const cw = `${where}.${key}[${i}]`;
      asArray(c?.envFrom).forEach((e: any, j: number) => {
        add("Secret", e?.secretRef?.name, `${cw}.envFrom[${j}].secretRef`);
        add("ConfigMap", e?.configMapRef?.name, `${cw}.envFrom[${j}].configMapRef`);
      });
      asArray(c?.env).forEach((e: any, j: number) => {
        add("Secret", e?.valueFrom?.secretKeyRef?.name, `${cw}.env[${j}].valueFrom.secretKeyRef`);
        add("ConfigMap", e?.valueFrom?.configMapKeyRef?.name, `${cw}.env[${j}].valueFrom.configMapKeyRef`);
      });
    });
  }
  asArray(podSpec?.volumes).forEach((v: any, i: number) => {
    const vw = `${where}.volumes[${i}]`;
    add("Secret", v?.secret?.secretName, `${vw}.secret`);
    add("ConfigMap", v?.configMap?.name, `${vw}.configMap`);
    asArray(v?.projected?.sources).forEach((p: any, j: number) => {
      add("Secret", p?.secret?.name, `${vw}.projected.sources[${j}].secret`);
      add("ConfigMap", p?.configMap?.name, `${vw}.projected.sources[${j}].configMap`);
    });
  });
  return refs;
}

/** Prefix of the pod-template annotation carrying the checksum of a Secret's or ConfigMap's data. */
export const CHECKSUM_PREFIX = "checksum/";
const TEMPLATED: string[] = [T.deployment, T.statefulSet, T.daemonSet];

export const podsRollOnConfigChange = stackControl({
  name: "pods-roll-on-config-change",
  description:
    "A Deployment, StatefulSet or DaemonSet whose pods read a Secret or ConfigMap declared in the stack carries the checksum of its data on the pod template (checksum/<name>): a rotated password or key changes the template and the pods roll, instead of running on the old value until their next restart.",
  severity: "medium",
  refs: [KEY_CHANGES, CHANGE_CONTROL, GDPR.integrity],
  remediation: "Pass the Secret's data through checksum() (components/lifecycle.ts) and put it on the pod template as checksum/<secret name> (AppDeployment's rollOn).",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const declared = new Set(all.filter((r) => r.type === T.secret || r.type === T.configMap).map((r) => `${r.props?.kind ?? (r.type === T.secret ? "Secret" : "ConfigMap")}/${namespaceOf(r)}/${k8sName(r)}`));
    // Charts' own pods are the chart's to roll (they are not children of the plan offline).
    const workloads = all.filter((r) => TEMPLATED.includes(r.type) && !renderedByChart(r.urn));
    let checked = 0;
    for (const w of workloads) {
      const template = w.props?.spec?.template ?? {};
      const podAnnotations = isObject(template.metadata?.annotations) ? template.metadata.annotations : {};
      const seen = new Set<string>();
      for (const ref of configReferences(template.spec, "spec.template.spec")) {
        if (!declared.has(`${ref.kind}/${namespaceOf(w)}/${ref.name}`) || seen.has(ref.name)) continue;
        seen.add(ref.name);
        checked++;
        const key = `${CHECKSUM_PREFIX}${ref.name}`;
        const value = podAnnotations[key];
        f.expect(
          Object.prototype.hasOwnProperty.call(podAnnotations, key) && value !== "",
          w,
          `spec.template.metadata.annotations["${key}"]`,
          value,
          `the pods read ${ref.kind} ${ref.name} (${ref.path}): its data's checksum must be on the pod template, so that a change rolls them`,
        );
      }
    }
    if (checked === 0) return { notApplicable: "no workload of the stack reads a Secret or ConfigMap the stack declares" };
  },
});

/** A Helm release of the operator that manages `type`, recognised by its chart. */
const OPERATOR_CHARTS: Readonly<Record<string, RegExp>> = {
  [T.kafka]: /(^|\/)strimzi-kafka-operator$/,
  [T.psmdb]: /(^|\/)psmdb-operator$/,
  [T.redisCluster]: /(^|\/)redis-operator$/,
};

function dependsOn(s: Subject, deps: Map<string, Set<string>>, on: Subject): boolean {
  return deps.get(s.urn)?.has(on.urn) === true;
}

export const operandsDeletedBeforeOperators = stackControl({
  name: "operands-deleted-before-operators",
  description:
    "Custom resources are deleted before what clears their finalizers: each KafkaTopic and KafkaUser depends on its Kafka and the Kafka's node pools (the Topic and User Operators run for the Kafka), and each Kafka, PerconaServerMongoDB and RedisCluster on its operator's Helm release where the stack installs one. Pulumi deletes dependents first; without these edges `pulumi destroy` removes them in parallel and hangs on finalizers nothing will clear.",
  severity: "medium",
  refs: [GDPR.resilience, CHANGE_CONTROL],
  remediation: "Give KafkaTopic and KafkaUser dependsOn the Kafka and its KafkaNodePools (components/kafka.ts), and the Kafka, PerconaServerMongoDB and RedisCluster dependsOn the operator installation.",
  check: (resources, f) => {
    const deps = new Map(resources.map((r) => [r.urn, new Set(r.dependencies.map((d) => d.urn))]));
    const all = resources.map(subjectOf);
    const entities = all.filter((r) => r.type === T.kafkaTopic || r.type === T.kafkaUser);
    const operands = all.filter((r) => r.type in OPERATOR_CHARTS);
    if (entities.length === 0 && operands.length === 0) return { notApplicable: "the stack declares no Kafka, MongoDB or Redis custom resource" };
    for (const e of entities) {
      const cluster = e.props?.metadata?.labels?.["strimzi.io/cluster"];
      const ns = namespaceOf(e);
      const kafka = all.find((r) => r.type === T.kafka && k8sName(r) === cluster && namespaceOf(r) === ns);
      if (!kafka) {
        f.fail(e, 'metadata.labels["strimzi.io/cluster"]', cluster, "its Kafka must be declared in the same stack and namespace, so that the entity is deleted first");
        continue;
      }
      f.expect(dependsOn(e, deps, kafka), e, "dependsOn", `Kafka ${ns}/${cluster}`, "must depend on its Kafka: the Topic and User Operators that clear it run for the Kafka");
      for (const pool of all.filter((r) => r.type === T.kafkaNodePool && namespaceOf(r) === ns && r.props?.metadata?.labels?.["strimzi.io/cluster"] === cluster)) {
        f.expect(dependsOn(e, deps, pool), e, "dependsOn", `KafkaNodePool ${ns}/${k8sName(pool)}`, "must depend on the node pools of its Kafka: the brokers hold the topic and the user's ACLs");
      }
    }
    for (const o of operands) {
      const releases = all.filter((r) => r.type === T.helmRelease && r.props?.namespace === namespaceOf(o) && OPERATOR_CHARTS[o.type].test(String(r.props?.chart ?? "")));
      for (const release of releases) {
        f.expect(dependsOn(o, deps, release), o, "dependsOn", `Release ${namespaceOf(o)}/${release.props?.name ?? release.name}`, "must depend on its operator's release: the operator handles its deletion (finalizers, entity operator, ordered shutdown)");
      }
      if (releases.length === 0) f.pass(o, "dependsOn", "(the operator is not installed by this stack)");
    }
  },
});

export const helmReleasesFitColdCluster = resourceControl({
  name: "helm-releases-fit-cold-cluster",
  description: `Every helm.v3 Release that waits for its objects allows at least ${MIN_HELM_TIMEOUT_SECONDS} s (Helm's default, 300 s, rolls an atomic install back on a cold cluster); one that does not wait is not atomic (atomic implies waiting).`,
  severity: "medium",
  refs: [CHANGE_CONTROL, GDPR.resilience],
  remediation: "Spread helmReleaseAwait(awaitReadiness) (components/lifecycle.ts) into the Release's arguments: timeout 900, atomic with waiting, neither without.",
  appliesTo: [T.helmRelease],
  check: (s, f) => {
    const p = s.props ?? {};
    if (p.skipAwait === true) {
      f.expect(p.atomic !== true, s, "atomic", p.atomic, "a release that skips waiting cannot be atomic (Helm's atomic waits, and turns skipAwait off)");
      return;
    }
    f.expect(typeof p.timeout === "number" && p.timeout >= MIN_HELM_TIMEOUT_SECONDS, s, "timeout", p.timeout, `a waiting release needs a timeout of at least ${MIN_HELM_TIMEOUT_SECONDS} s`);
  },
});

export const lifecycleControls = [dataResourcesAwaited, podsRollOnConfigChange, operandsDeletedBeforeOperators, helmReleasesFitColdCluster];
