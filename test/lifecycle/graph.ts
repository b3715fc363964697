/**
 * What a plan's dependency graph says about `pulumi destroy`: the engine deletes a resource only after
 * every resource that depends on it, so `a` goes before `b` exactly when `a` depends on `b`, directly
 * or through others.
 */
import type { Plan, RecordedResource } from "../harness";

export function dependsTransitively(plan: Plan, from: RecordedResource, to: RecordedResource): boolean {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...from.dependsOn];
  while (stack.length) {
    const urn = stack.pop()!;
    if (urn === to.urn) return true;
    if (seen.has(urn)) continue;
    seen.add(urn);
    stack.push(...(byUrn.get(urn)?.dependsOn ?? []));
  }
  return false;
}

/** True when `pulumi destroy` deletes `a` before it starts deleting `b` (never in parallel). */
export const deletedBefore = dependsTransitively;

/** A copy of `plan` where `change` rewrote some resources' dependencies (to show a control catching it). */
export function withDependencies(plan: Plan, change: (r: RecordedResource) => string[] | undefined): Plan {
  return { ...plan, resources: plan.resources.map((r) => ({ ...r, dependsOn: change(r) ?? r.dependsOn })) };
}
