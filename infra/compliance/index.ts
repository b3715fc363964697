/**
 * The offline compliance audit, as the plan and audit CLIs use it: the environment profile of a
 * stack, and the evaluation of the pack on its plan.
 */
import { clusterFor, environmentFor, isClusterStack } from "../../stacks";
import type { Plan } from "../plan/run";
import type { EnvironmentProfile } from "../../policy/policies";
import { evaluatePlan, type AuditResult } from "./evaluate";
import { formatFindings } from "./report";

/** Tier and features of a stack, from its spec (stacks/<stack>.ts). */
export function profileOf(stack: string): EnvironmentProfile {
  if (isClusterStack(stack)) {
    // A cluster stack holds the bar of the strictest environment it hosts: rct's acceptance bar on
    // the shared non-production cluster, production's on prod's.
    const tier = clusterFor(stack).tier === "production" ? "production" : "acceptance";
    return { tier, features: { atlas: false, waf: false, manageZone: false }, clusterLayer: true };
  }
  const spec = environmentFor(stack);
  return { tier: spec.tier, features: { atlas: spec.features.atlas, waf: spec.features.waf, manageZone: spec.features.manageZone } };
}

export function auditPlan(plan: Plan): Promise<AuditResult> {
  return evaluatePlan(plan, profileOf(plan.stack));
}

/** For `npm run plan`: the pack's verdict on the recorded resources, as printable lines. */
export async function policyFindings(plan: Plan): Promise<string> {
  return formatFindings(await auditPlan(plan));
}
