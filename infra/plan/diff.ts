// `npm run plan -- diff <base plan.json> <head plan.json>`: what a change does to an environment, as the
// Markdown a pull request comment carries. Offline there is no live state, so "replace" is a heuristic
// that mirrors the providers' rules (see REPLACING and docs/plan.md).
import type { RecordedResource } from "./recorder";
import type { Plan } from "./run";

/** One property that differs; `undefined` means absent on that side. */
export interface PropertyChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface ResourceChange {
  urn: string;
  type: string;
  name: string;
  /** `namespace/name` of a Kubernetes object, when it has one. */
  object?: string;
  changes: PropertyChange[];
  /** Why the resource is replaced rather than updated in place; empty for an update. */
  replaceReasons: string[];
}

export interface PlanDiff {
  project: string;
  stack: { base: string; head: string };
  added: RecordedResource[];
  removed: RecordedResource[];
  replaced: ResourceChange[];
  updated: ResourceChange[];
  unchanged: number;
  outputs: PropertyChange[];
}

type Json = unknown;

/** Prefix of the resource options (protect, retainOnDelete, provider) listed next to input changes. */
const OPTION = "(option) ";

function isObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Arrays of objects named uniquely (containers, ports, env, volumes; volumeClaimTemplates by
 * `metadata.name`) are matched by name, not position.
 */
function byName(list: Json[]): Map<string, Json> | undefined {
  const out = new Map<string, Json>();
  for (const item of list) {
    const name = isObject(item) ? (item.name ?? (isObject(item.metadata) ? item.metadata.name : undefined)) : undefined;
    if (typeof name !== "string" || out.has(name)) return undefined;
    out.set(name, item);
  }
  return out;
}

function segment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The leaves where `a` and `b` differ, as dotted paths (`spec.template.spec.containers[name=web].image`). */
export function propertyChanges(a: Json, b: Json, path = ""): PropertyChange[] {
  if (a === b) return [];
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => propertyChanges(a[k], b[k], `${path}${segment(k)}`));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = byName(a);
    const nb = byName(b);
    if (na && nb && a.length > 0 && b.length > 0) {
      const names = [...new Set([...na.keys(), ...nb.keys()])];
      return names.flatMap((n) => propertyChanges(na.get(n), nb.get(n), `${path}[name=${n}]`));
    }
    const out: PropertyChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...propertyChanges(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [{ path: path.replace(/^\./, ""), before: a, after: b }];
}

/**
 * Properties whose change makes the provider delete and recreate the resource. Kubernetes entries
 * follow pulumi-kubernetes' own table (provider/pkg/provider/diff.go, `forceNewProperties`) plus
 * the fields the API server refuses to change (DaemonSet selector); Cloudflare and Atlas resources
 * belong to one zone, account or project; every `random` resource regenerates when an input changes.
 */
const REPLACING: { type: RegExp; paths: string[] }[] = [
  { type: /^kubernetes:(?!helm\.sh)/, paths: ["metadata.name", "metadata.namespace"] },
  { type: /^kubernetes:apps\/v1:(Deployment|DaemonSet|ReplicaSet)$/, paths: ["spec.selector"] },
  {
    type: /^kubernetes:apps\/v1:StatefulSet$/,
    paths: ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy", "spec.revisionHistoryLimit"],
  },
  { type: /^kubernetes:batch\/v1:Job$/, paths: ["spec.selector", "spec.template", "spec.completions", "spec.parallelism"] },
  { type: /^kubernetes:core\/v1:Service$/, paths: ["spec.clusterIP"] },
  { type: /^kubernetes:core\/v1:PersistentVolumeClaim$/, paths: ["spec"] },
  { type: /^kubernetes:core\/v1:ResourceQuota$/, paths: ["spec.scopes"] },
  { type: /^kubernetes:core\/v1:Secret$/, paths: ["type"] },
  { type: /^kubernetes:rbac\.authorization\.k8s\.io\/v1:(Cluster)?RoleBinding$/, paths: ["roleRef"] },
  { type: /^kubernetes:storage\.k8s\.io\/v1:StorageClass$/, paths: ["parameters", "provisioner"] },
  { type: /^kubernetes:helm\.sh\/v3:Release$/, paths: ["name", "namespace"] },
  { type: /^cloudflare:/, paths: ["zoneId", "accountId"] },
  { type: /^mongodbatlas:/, paths: ["projectId", "orgId"] },
  { type: /^mongodbatlas:index\/(advancedCluster|cluster):/, paths: ["name"] },
  { type: /^random:/, paths: [""] },
];

/** Provider inputs that identify the target: changing them replaces the provider and all it manages. */
const PROVIDER_IDENTITY: Record<string, string[]> = {
  "pulumi:providers:kubernetes": ["clusterIdentifier", "kubeconfig", "context", "cluster"],
};

function under(path: string, prefix: string): boolean {
  return prefix === "" || path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

function providerUrn(ref: string | null): string | null {
  return ref ? ref.slice(0, ref.lastIndexOf("::")) : null;
}

function boolInput(r: RecordedResource | undefined, key: string): boolean {
  const v = r?.inputs[key];
  return v === true || v === "true";
}

/** Why changing `changes` on `head` replaces it (empty when it is an update in place). */
function replaceReasons(base: RecordedResource, head: RecordedResource, allChanges: PropertyChange[], replacedProviders: Set<string>, headByUrn: Map<string, RecordedResource>): string[] {
  const reasons = new Set<string>();
  const changes = allChanges.filter((c) => !c.path.startsWith(OPTION));
  if (providerUrn(base.provider) !== providerUrn(head.provider)) reasons.add("its provider changes");
  else if (head.provider && replacedProviders.has(providerUrn(head.provider)!)) reasons.add(`its provider \`${providerUrn(head.provider)!.split("::").pop()}\` is replaced`);
  const identity = PROVIDER_IDENTITY[head.type];
  if (identity) {
    // With a clusterIdentifier set, the provider ignores context/kubeconfig changes for identity.
    const keys = head.inputs.clusterIdentifier !== undefined && base.inputs.clusterIdentifier !== undefined ? ["clusterIdentifier"] : identity;
    for (const c of changes) if (keys.some((k) => under(c.path, k))) reasons.add(`\`${c.path}\` identifies the target`);
  }
  for (const rule of REPLACING) {
    if (!rule.type.test(head.type)) continue;
    for (const c of changes) {
      const p = rule.paths.find((prefix) => under(c.path, prefix));
      if (p !== undefined) reasons.add(p === "" ? "any input change regenerates it" : `\`${c.path}\` cannot change in place`);
    }
  }
  // The Kubernetes provider replaces ConfigMaps and Secrets whose content changes, so that pods pick
  // the new content up through a rollout, unless the provider opts into in-place updates.
  const provider = head.provider ? headByUrn.get(providerUrn(head.provider)!) : undefined;
  const content: Record<string, { fields: string[]; flag: string }> = {
    "kubernetes:core/v1:ConfigMap": { fields: ["data", "binaryData"], flag: "enableConfigMapMutable" },
    "kubernetes:core/v1:Secret": { fields: ["data", "stringData"], flag: "enableSecretMutable" },
  };
  const rule = content[head.type];
  if (rule) {
    const why = head.inputs.immutable === true ? "the object is immutable" : boolInput(provider, rule.flag) ? undefined : `the provider does not set ${rule.flag}`;
    for (const c of changes) if (why && rule.fields.some((f) => under(c.path, f))) reasons.add(`\`${c.path}\` changes and ${why}`);
  }
  return [...reasons];
}

function objectName(r: RecordedResource): string | undefined {
  const md = (r.inputs as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  if (!r.type.startsWith("kubernetes:") || !md || typeof md.name !== "string") return undefined;
  return typeof md.namespace === "string" ? `${md.namespace}/${md.name}` : md.name;
}

/** Compares two plans of the same project resource by resource (matched by URN). */
export function diffPlans(base: Plan, head: Plan): PlanDiff {
  const baseByUrn = new Map(base.resources.map((r) => [r.urn, r]));
  const headByUrn = new Map(head.resources.map((r) => [r.urn, r]));
  const diff: PlanDiff = {
    project: head.project,
    stack: { base: base.stack, head: head.stack },
    added: head.resources.filter((r) => !baseByUrn.has(r.urn)),
    removed: base.resources.filter((r) => !headByUrn.has(r.urn)),
    replaced: [],
    updated: [],
    unchanged: 0,
    outputs: propertyChanges(base.outputs, head.outputs),
  };

  const changesOf = new Map<string, PropertyChange[]>();
  for (const h of head.resources) {
    const b = baseByUrn.get(h.urn);
    if (!b) continue;
    const changes = propertyChanges(b.inputs, h.inputs);
    for (const opt of ["protect", "retainOnDelete"] as const) {
      if (b[opt] !== h[opt]) changes.push({ path: `${OPTION}${opt}`, before: b[opt], after: h[opt] });
    }
    if (providerUrn(b.provider) !== providerUrn(h.provider)) changes.push({ path: `${OPTION}provider`, before: providerUrn(b.provider), after: providerUrn(h.provider) });
    changesOf.set(h.urn, changes);
  }
  const replacedProviders = new Set<string>();
  for (const h of head.resources) {
    const ch = changesOf.get(h.urn);
    if (ch?.length && PROVIDER_IDENTITY[h.type] && replaceReasons(baseByUrn.get(h.urn)!, h, ch, replacedProviders, headByUrn).length) replacedProviders.add(h.urn);
  }
  for (const h of head.resources) {
    const changes = changesOf.get(h.urn);
    if (!changes) continue;
    const reasons = replaceReasons(baseByUrn.get(h.urn)!, h, changes, replacedProviders, headByUrn);
    if (changes.length === 0 && reasons.length === 0) {
      diff.unchanged += 1;
      continue;
    }
    const entry: ResourceChange = { urn: h.urn, type: h.type, name: h.name, object: objectName(h), changes, replaceReasons: reasons };
    (reasons.length ? diff.replaced : diff.updated).push(entry);
  }
  return diff;
}

const MAX_VALUE = 100;
const MAX_CHANGES = 25;

/** A value as inline Markdown code, shortened; secrets are already `[secret]` in a plan. */
function show(v: unknown): string {
  if (v === undefined) return "_(absent)_";
  let s = JSON.stringify(v) ?? String(v);
  if (s.length > MAX_VALUE) s = `${s.slice(0, MAX_VALUE - 1)}…`;
  return s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``;
}

function title(r: { type: string; name: string; object?: string }): string {
  return `\`${r.type}\` **${r.name}**${r.object && r.object !== r.name ? ` (\`${r.object}\`)` : ""}`;
}

function changeLines(changes: PropertyChange[]): string[] {
  const lines = changes.slice(0, MAX_CHANGES).map((c) => `  - \`${c.path}\`: ${show(c.before)} → ${show(c.after)}`);
  if (changes.length > MAX_CHANGES) lines.push(`  - … and ${changes.length - MAX_CHANGES} more`);
  return lines;
}

/** The diff as Markdown: counts first, then each section, resources in plan order. */
export function renderDiff(diff: PlanDiff): string {
  const { added, removed, replaced, updated } = diff;
  const stacks = diff.stack.base === diff.stack.head ? diff.stack.head : `${diff.stack.base} → ${diff.stack.head}`;
  const out = [`## Plan diff: ${diff.project}/${stacks}`, ""];
  const total = added.length + removed.length + replaced.length + updated.length;
  if (total === 0 && diff.outputs.length === 0) {
    out.push(`No changes (${diff.unchanged} resources unchanged).`);
    return `${out.join("\n")}\n`;
  }
  out.push(`**${added.length} to add, ${replaced.length} to replace, ${updated.length} to update, ${removed.length} to remove**; ${diff.unchanged} unchanged.`, "");
  const objectOf = (r: RecordedResource) => ({ type: r.type, name: r.name, object: objectName(r) });
  if (replaced.length) {
    out.push(`### Replaced (${replaced.length})`, "", "Deleted and created again: check for data loss and downtime.", "");
    for (const r of replaced) out.push(`- ${title(r)}: ${r.replaceReasons.join("; ")}`, ...changeLines(r.changes));
    out.push("");
  }
  if (updated.length) {
    out.push(`### Updated (${updated.length})`, "");
    for (const r of updated) out.push(`- ${title(r)}`, ...changeLines(r.changes));
    out.push("");
  }
  if (added.length) {
    out.push(`### Added (${added.length})`, "");
    for (const r of added) out.push(`- ${title(objectOf(r))}`);
    out.push("");
  }
  if (removed.length) {
    out.push(`### Removed (${removed.length})`, "");
    for (const r of removed) out.push(`- ${title(objectOf(r))}${r.protect ? " **(protected: the deployment will refuse until `protect` is lifted)**" : ""}`);
    out.push("");
  }
  if (diff.outputs.length) {
    out.push(`### Stack outputs (${diff.outputs.length})`, "", ...changeLines(diff.outputs).map((l) => l.slice(2)), "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
