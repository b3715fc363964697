// The Kubernetes objects of a plan as plain manifests, one YAML file per namespace: what a reviewer or a
// GitOps tool reads. Built from plan.json alone, so the same plan always gives the same bytes.
import * as YAML from "yaml";
import { autoName, SECRET, type RecordedResource } from "./recorder";
import type { Plan } from "./run";
import { toYaml } from "./yaml";

/** A Kubernetes object as `kubectl apply` takes it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [field: string]: unknown;
}

/** A manifest and the plan resource that declares it. */
export interface DeclaredObject {
  manifest: Manifest;
  urn: string;
}

/** File (under `manifests/`) holding the objects that live in no namespace. */
export const CLUSTER_FILE = "cluster.yaml";

const K8S_TYPE = /^kubernetes:([^:]+):(.+)$/;

/**
 * Kinds without a namespace. A kind named `Cluster…` (ClusterRole, ClusterIssuer, ClusterSecretStore)
 * is cluster-scoped by the convention every operator follows; the others are listed.
 */
const CLUSTER_SCOPED = new Set([
  "APIService",
  "CSIDriver",
  "CustomResourceDefinition",
  "IngressClass",
  "MutatingWebhookConfiguration",
  "Namespace",
  "Node",
  "PersistentVolume",
  "PriorityClass",
  "RuntimeClass",
  "StorageClass",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "ValidatingWebhookConfiguration",
  "VolumeSnapshotClass",
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind) || kind.startsWith("Cluster");
}

/**
 * Helm's install order (pkg/releaseutil/kind_sorter.go), so that each file reads, and applies, from
 * the namespace and its guard rails down to the workloads. Kinds not listed (custom resources) come
 * after, by kind.
 */
const INSTALL_ORDER = [
  "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
  "ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
  "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
  "DaemonSet", "Pod", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
  "CronJob", "IngressClass", "Ingress", "APIService", "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];
const rank = new Map(INSTALL_ORDER.map((k, i) => [k, i]));

/** Group/version of a Pulumi Kubernetes type token as an `apiVersion` (`core/v1` is `v1`). */
function apiVersionOf(groupVersion: string): string {
  return groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
}

/** Removes the engine's bookkeeping (`__defaults`, `__inputs`...) that the API server never sees. */
function stripInternal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripInternal);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith("__")) out[k] = stripInternal(v);
  return out;
}

const TOP_ORDER = ["apiVersion", "kind", "metadata", "type", "immutable", "spec", "data", "stringData", "binaryData"];
const METADATA_ORDER = ["name", "generateName", "namespace", "labels", "annotations"];

function ordered(obj: Record<string, unknown>, first: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of first) if (k in obj) out[k] = obj[k];
  for (const k of Object.keys(obj).sort()) if (!(k in out)) out[k] = obj[k];
  return out;
}

function maskValues(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return SECRET;
  return Object.fromEntries(Object.keys(value).map((k) => [k, SECRET]));
}

function toManifest(raw: Record<string, unknown>, fallback: { apiVersion: string; kind: string; name: string; type: string }): Manifest {
  const obj = stripInternal(raw) as Record<string, unknown>;
  obj.apiVersion ??= fallback.apiVersion;
  obj.kind ??= fallback.kind;
  const metadata = { ...((obj.metadata as Record<string, unknown> | undefined) ?? {}) };
  // The program reads back the same name (computedState), so references to it elsewhere match.
  if (!metadata.name && !metadata.generateName) metadata.name = autoName(fallback.type, fallback.name);
  obj.metadata = ordered(metadata, METADATA_ORDER);
  if (obj.kind === "Secret") {
    // The SDK makes both fields secret already; this holds for an object from a ConfigGroup too.
    for (const field of ["data", "stringData"]) if (field in obj) obj[field] = maskValues(obj[field]);
  }
  return ordered(obj, TOP_ORDER) as Manifest;
}

/** Objects of a `yaml/v2` ConfigGroup given inline (`objs`, `yaml`); files and URLs are not read. */
function configGroupObjects(r: RecordedResource): Record<string, unknown>[] {
  const inputs = r.inputs as { objs?: unknown; yaml?: unknown };
  const objs = (Array.isArray(inputs.objs) ? inputs.objs : inputs.objs ? [inputs.objs] : []).flat();
  const texts = Array.isArray(inputs.yaml) ? inputs.yaml : typeof inputs.yaml === "string" ? [inputs.yaml] : [];
  for (const text of texts) {
    if (typeof text !== "string") continue;
    for (const doc of YAML.parseAllDocuments(text)) {
      const js = doc.toJS();
      if (js && typeof js === "object") objs.push(js);
    }
  }
  return objs.filter((o): o is Record<string, unknown> => !!o && typeof o === "object" && "kind" in o);
}

/**
 * Every Kubernetes object the plan declares, custom resources included. Left out: Helm charts and
 * releases (their objects are rendered by Helm at deploy time), `…Patch` resources (partial objects
 * owned by someone else), and ConfigFile/ConfigGroup content that lives in files or URLs.
 */
export function declaredObjects(plan: Plan): DeclaredObject[] {
  const out: DeclaredObject[] = [];
  for (const r of plan.resources) {
    const m = K8S_TYPE.exec(r.type);
    if (!m) continue;
    const [, groupVersion, kind] = m;
    if (groupVersion.startsWith("helm.sh/") || groupVersion.startsWith("kustomize/")) continue;
    if (groupVersion.startsWith("yaml/")) {
      configGroupObjects(r).forEach((o, i) => {
        const fallback = { apiVersion: String(o.apiVersion ?? ""), kind: String(o.kind), name: `${r.name}-${i}`, type: r.type };
        out.push({ manifest: toManifest(o, fallback), urn: r.urn });
      });
      continue;
    }
    if (!r.custom || kind.endsWith("Patch")) continue;
    out.push({ manifest: toManifest(r.inputs, { apiVersion: apiVersionOf(groupVersion), kind, name: r.name, type: r.type }), urn: r.urn });
  }
  return out;
}

/**
 * The file an object belongs in: its namespace's, or {@link CLUSTER_FILE}. A namespaced object without
 * a namespace goes where the provider would put it: `default` (the provider sets no namespace).
 */
export function fileFor(manifest: Manifest): string {
  if (isClusterScoped(manifest.kind)) return CLUSTER_FILE;
  const ns = typeof manifest.metadata.namespace === "string" && manifest.metadata.namespace ? manifest.metadata.namespace : "default";
  return `${ns.replace(/[^A-Za-z0-9.-]/g, "_")}.yaml`;
}

function compareObjects(a: Manifest, b: Manifest): number {
  const ra = rank.get(a.kind) ?? INSTALL_ORDER.length;
  const rb = rank.get(b.kind) ?? INSTALL_ORDER.length;
  return (
    ra - rb ||
    a.kind.localeCompare(b.kind) ||
    a.apiVersion.localeCompare(b.apiVersion) ||
    String(a.metadata.namespace ?? "").localeCompare(String(b.metadata.namespace ?? "")) ||
    String(a.metadata.name ?? a.metadata.generateName).localeCompare(String(b.metadata.name ?? b.metadata.generateName))
  );
}

/** The manifests of `plan`, as file name (under `manifests/`) → YAML text, files and objects in a stable order. */
export function renderManifests(plan: Plan): Map<string, string> {
  const groups = new Map<string, Manifest[]>();
  for (const { manifest } of declaredObjects(plan)) {
    const file = fileFor(manifest);
    const list = groups.get(file) ?? [];
    list.push(manifest);
    groups.set(file, list);
  }
  const files = new Map<string, string>();
  for (const file of [...groups.keys()].sort()) {
    const objects = groups.get(file)!.sort(compareObjects);
    const where = file === CLUSTER_FILE ? "cluster-scoped objects" : `namespace ${file.slice(0, -".yaml".length)}`;
    const header = `# ${plan.project}/${plan.stack}: ${where}, ${objects.length} object${objects.length === 1 ? "" : "s"}. Generated by \`npm run plan\`; secret values are masked.\n`;
    const docs = objects.map((o) => toYaml(o));
    files.set(file, header + docs.map((d) => `---\n${d}`).join(""));
  }
  return files;
}
