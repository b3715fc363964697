// A Mermaid picture of an environment for people: namespaces (and the clouds outside the cluster) as
// boxes, components and Helm charts as nodes, an arrow from a node to what it depends on. Derived from
// plan.json alone, with no knowledge of DiaspoMoney's areas, so new components appear by themselves.
import { declaredObjects } from "./manifests";
import type { RecordedResource } from "./recorder";
import type { Plan } from "./run";

const HELM = /^kubernetes:helm\.sh\/v\d+:(Chart|Release)$/;

/** Where a node is drawn: a namespace, the cluster itself, a cloud, or nowhere in particular. */
interface Place {
  id: string;
  title: string;
}

interface GraphNode {
  urn: string;
  label: string;
  kind: "component" | "chart";
  place?: Place;
  resources: number;
}

/** The last segment of a type token: `diaspomoney:data:Kafka` → `Kafka`. */
function shortType(type: string): string {
  return type.split(":").pop() ?? type;
}

/** Mermaid label text: no quotes or brackets that would end the label. */
function text(s: string): string {
  return s.replace(/"/g, "#quot;").replace(/[[\]{}<>]/g, " ").trim();
}

function cloudOf(type: string): Place | undefined {
  const pkg = type.split(":")[0];
  const clouds: Record<string, string> = { cloudflare: "Cloudflare", mongodbatlas: "MongoDB Atlas", aws: "AWS", gcp: "Google Cloud", azure: "Azure" };
  return clouds[pkg] ? { id: `cloud_${pkg}`, title: clouds[pkg] } : undefined;
}

function namespacePlace(ns: string): Place {
  return { id: `ns_${ns.replace(/[^A-Za-z0-9]/g, "_")}`, title: `namespace ${ns}` };
}

const CLUSTER: Place = { id: "cluster_scoped", title: "cluster-wide" };

/**
 * Objects a component often hands to another namespace (the data layer's connection Secret lives
 * with the app): they count for less than workloads and custom resources when placing a component.
 */
const SUPPORTING = new Set(["Secret", "ConfigMap", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy"]);

interface Vote {
  place: Place;
  weight: number;
}

function bestPlace(votes: Vote[]): Place | undefined {
  const totals = new Map<string, Vote>();
  for (const v of votes) totals.set(v.place.id, { place: v.place, weight: (totals.get(v.place.id)?.weight ?? 0) + v.weight });
  return [...totals.values()].sort((a, b) => b.weight - a.weight || a.place.id.localeCompare(b.place.id))[0]?.place;
}

/**
 * The nodes: every component that owns resources directly (not one made only of other components,
 * such as the environment itself), and every Helm chart or release, which is the unit people think
 * in for operators and third-party services. Providers are left out: everything uses them.
 */
function selectNodes(plan: Plan): Map<string, GraphNode> {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const isProvider = (r: RecordedResource) => r.type.startsWith("pulumi:providers:");
  const ownsDirectly = new Set<string>();
  for (const r of plan.resources) {
    if (r.custom && !isProvider(r) && r.parent && byUrn.get(r.parent)?.custom === false) ownsDirectly.add(r.parent);
  }
  const nodes = new Map<string, GraphNode>();
  for (const r of plan.resources) {
    if (HELM.test(r.type)) {
      const i = r.inputs as { chart?: string; version?: string; name?: string; namespace?: string };
      const chart = (i.chart ?? r.name).split("/").pop()!;
      nodes.set(r.urn, {
        urn: r.urn,
        label: `${chart}${i.version ? ` ${i.version}` : ""}<br/>Helm ${shortType(r.type).toLowerCase()} ${i.name ?? r.name}`,
        kind: "chart",
        place: i.namespace ? namespacePlace(i.namespace) : undefined,
        resources: 0,
      });
    } else if (!r.custom && r.type !== "pulumi:pulumi:Stack" && ownsDirectly.has(r.urn)) {
      nodes.set(r.urn, { urn: r.urn, label: `${shortType(r.type)}<br/>${r.name}`, kind: "component", resources: 0 });
    }
  }
  return nodes;
}

/** The Mermaid flowchart of `plan`. */
export function renderGraph(plan: Plan): string {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const nodes = selectNodes(plan);
  const nodeOf = (urn: string | null): GraphNode | undefined => {
    for (let u = urn; u; u = byUrn.get(u)?.parent ?? null) {
      const n = nodes.get(u);
      if (n) return n;
    }
    return undefined;
  };

  // Place each component where most of its objects live; a component holding a Namespace is that
  // namespace's guard rails, and arrows into it would only repeat what the boxes already show.
  const votes = new Map<GraphNode, Vote[]>();
  const vote = (node: GraphNode, place: Place, weight: number) => votes.set(node, [...(votes.get(node) ?? []), { place, weight }]);
  const namespaceOwners = new Set<GraphNode>();
  for (const { manifest, urn } of declaredObjects(plan)) {
    const node = nodeOf(urn);
    if (!node) continue;
    const ns = manifest.kind === "Namespace" ? manifest.metadata.name : manifest.metadata.namespace;
    if (manifest.kind === "Namespace") namespaceOwners.add(node);
    vote(node, typeof ns === "string" && ns ? namespacePlace(ns) : CLUSTER, SUPPORTING.has(manifest.kind) ? 1 : 3);
  }
  for (const r of plan.resources) {
    const node = r.custom ? nodeOf(r.urn) : undefined;
    if (!node || r.type.startsWith("pulumi:providers:")) continue;
    node.resources += 1;
    const cloud = cloudOf(r.type);
    if (cloud) vote(node, cloud, 3);
  }
  for (const node of nodes.values()) node.place ??= bestPlace(votes.get(node) ?? []);

  const edges = new Set<string>();
  const edgeList: [GraphNode, GraphNode][] = [];
  for (const r of plan.resources) {
    const from = nodeOf(r.urn);
    if (!from) continue;
    for (const dep of r.dependsOn) {
      const to = nodeOf(dep);
      if (!to || to === from || namespaceOwners.has(to)) continue;
      const key = `${from.urn}\n${to.urn}`;
      if (!edges.has(key)) {
        edges.add(key);
        edgeList.push([from, to]);
      }
    }
  }

  const sorted = [...nodes.values()].sort(
    (a, b) => (a.place?.title ?? "~").localeCompare(b.place?.title ?? "~") || a.label.localeCompare(b.label) || a.urn.localeCompare(b.urn),
  );
  const ids = new Map(sorted.map((n, i) => [n, `n${i + 1}`]));
  const nodeLine = (n: GraphNode) => {
    const count = n.kind === "component" ? `<br/>${n.resources} resource${n.resources === 1 ? "" : "s"}` : "";
    const [head, ...rest] = n.label.split("<br/>");
    return `${ids.get(n)}["${[text(head), ...rest.map(text)].join("<br/>")}${count}"]:::${n.kind}`;
  };

  const lines = [
    `%% ${plan.project}/${plan.stack}: components and Helm charts by namespace. Generated by \`npm run plan\`.`,
    "%% An arrow goes from a node to what it depends on (explicit dependsOn or an output it reads).",
    "flowchart LR",
    "  classDef component fill:#eef4ff,stroke:#3b6bc5",
    "  classDef chart fill:#fff4e0,stroke:#c58a1b",
  ];
  const groups = new Map<string, { place: Place; members: GraphNode[] }>();
  for (const n of sorted) {
    if (!n.place) continue;
    const g = groups.get(n.place.id) ?? { place: n.place, members: [] };
    g.members.push(n);
    groups.set(n.place.id, g);
  }
  for (const { place, members } of groups.values()) {
    lines.push(`  subgraph ${place.id}["${text(place.title)}"]`);
    for (const n of members) lines.push(`    ${nodeLine(n)}`);
    lines.push("  end");
  }
  for (const n of sorted) if (!n.place) lines.push(`  ${nodeLine(n)}`);
  const edgeLines = edgeList.map(([a, b]) => `  ${ids.get(a)} --> ${ids.get(b)}`).sort();
  lines.push(...edgeLines);
  return `${lines.join("\n")}\n`;
}
