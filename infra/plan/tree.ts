import type { Plan } from "./run";
import type { RecordedResource } from "./recorder";

function label(r: RecordedResource): string {
  const inputs = r.inputs as { metadata?: { name?: string; namespace?: string } };
  const k8sName = inputs.metadata?.name ? ` (${inputs.metadata.namespace ? `${inputs.metadata.namespace}/` : ""}${inputs.metadata.name})` : "";
  const flags = [r.protect ? "protected" : "", r.retainOnDelete ? "retained" : ""].filter(Boolean).join(", ");
  return `${r.type}  ${r.name}${k8sName}${flags ? `  [${flags}]` : ""}`;
}

/** The component tree, one resource a line, children indented under their parent. */
export function renderTree(plan: Plan): string {
  const children = new Map<string | null, RecordedResource[]>();
  const known = new Set(plan.resources.map((r) => r.urn));
  for (const r of plan.resources) {
    const parent = r.parent && known.has(r.parent) ? r.parent : null;
    const list = children.get(parent) ?? [];
    list.push(r);
    children.set(parent, list);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      lines.push(`${prefix}${parent === null ? "" : last ? "└─ " : "├─ "}${label(r)}`);
      walk(r.urn, parent === null ? "" : prefix + (last ? "   " : "│  "));
    });
  };
  walk(null, "");
  return lines.join("\n");
}

/** Resource counts per type, most frequent first. */
export function countByType(plan: Plan): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function summaryLine(plan: Plan, millis?: number): string {
  const custom = plan.resources.filter((r) => r.custom).length;
  const protectedCount = plan.resources.filter((r) => r.protect).length;
  const types = new Set(plan.resources.map((r) => r.type)).size;
  return `${plan.project}/${plan.stack}: ${plan.resources.length} resources (${custom} custom, ${plan.resources.length - custom} components) of ${types} types, ${protectedCount} protected${millis === undefined ? "" : `, planned in ${millis} ms`}`;
}
