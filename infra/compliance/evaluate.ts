/**
 * Runs the policy pack offline on a recorded plan: every control's own `validateResource` /
 * `validateStack`, called with arguments built from `plan.json` the way the Pulumi engine builds
 * them (type, inputs as props, URN, name, options, provider, parent and dependencies), plus an
 * evidence sink so that the audit can show what held as well as what failed.
 */
import type {
  EnforcementLevel,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  Severity,
  StackValidationArgs,
} from "@pulumi/policy";
import type { RecordedResource } from "../plan/recorder";
import type { Plan } from "../plan/run";
import { EVIDENCE_SINK, isStackControl, type Control, type Evidence } from "../../policy/lib/control";
import type { FrameworkRef } from "../../policy/lib/frameworks";
import { controls as packControls, packConfigFor, PACK_NAME, PACK_VERSION, type EnvironmentProfile } from "../../policy/policies";

export type ControlStatus = "pass" | "fail" | "not-applicable" | "error";

export interface Violation {
  message: string;
  urn?: string;
}

export interface ControlResult {
  name: string;
  description: string;
  severity: Severity;
  enforcementLevel: EnforcementLevel;
  references: FrameworkRef[];
  remediation: string;
  status: ControlStatus;
  /** Why the control did not apply, or the error it raised. */
  reason?: string;
  violations: Violation[];
  evidence: Evidence[];
  /** Resources the control examined (resource controls) or 1 for the stack (stack controls). */
  evaluated: number;
}

export interface AuditResult {
  project: string;
  stack: string;
  tier: EnvironmentProfile["tier"];
  pack: { name: string; version: string };
  resources: number;
  controls: ControlResult[];
  summary: { total: number; passed: number; failed: number; notApplicable: number; errors: number; mandatoryFailures: number; advisoryFailures: number };
}

/** CrossGuard's own signal, re-created: `notApplicable()` throws and the engine records the reason. */
class NotApplicable extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "not applicable");
  }
}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

/** Type-token matching as the policy SDK does it: the class's `__pulumiType`, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: any): boolean {
  const token = resourceClass?.__pulumiType;
  if (typeof token === "string") return token === type;
  return typeof resourceClass?.isInstance === "function" && resourceClass.isInstance({ __pulumiType: type }) === true;
}

/** `RecordedResource.provider` is `<provider urn>::<id>`. */
function providerUrn(ref: string | null): string | undefined {
  if (!ref) return undefined;
  const i = ref.lastIndexOf("::");
  return i > 0 ? ref.slice(0, i) : ref;
}

/** A plan's resources by URN, and each value's JSON text: built once per plan, not per evaluation. */
const byUrnOf = new WeakMap<Plan, Map<string, RecordedResource>>();
const jsonOf = new WeakMap<object, string>();

function indexOf(plan: Plan): Map<string, RecordedResource> {
  let byUrn = byUrnOf.get(plan);
  if (!byUrn) {
    byUrn = new Map(plan.resources.map((x) => [x.urn, x]));
    byUrnOf.set(plan, byUrn);
  }
  return byUrn;
}

/**
 * Policies see data, never the recorder's objects: a deep copy per evaluation keeps them honest (one
 * cannot change what the next sees). The copy is parsed from the value's JSON, written once.
 */
function clone<T>(v: T): T {
  if (v === undefined || v === null || typeof v !== "object") return v;
  let json = jsonOf.get(v);
  if (json === undefined) {
    json = JSON.stringify(v);
    jsonOf.set(v, json);
  }
  return JSON.parse(json) as T;
}

/** `props` on `target`, copied from `r` when first read: a policy that does not apply never pays for it. */
function lazyProps<T extends object>(target: T, r: RecordedResource, plan: Plan): T & { props: Record<string, any> } {
  let props: Record<string, any> | undefined;
  return Object.defineProperty(target, "props", {
    get: () => (props ??= propsOf(r, plan)),
    enumerable: true,
    configurable: true,
  }) as T & { props: Record<string, any> };
}

function optionsOf(r: RecordedResource): PolicyResourceOptions & { retainOnDelete: boolean } {
  return {
    protect: r.protect,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
    // Not in CrossGuard's options, recorded by the plan: controls use it only where present.
    retainOnDelete: r.retainOnDelete,
  };
}

/** The props a policy sees: inputs, except for the stack itself, whose props are its outputs. */
function propsOf(r: RecordedResource, plan: Plan): Record<string, any> {
  return r.type === "pulumi:pulumi:Stack" ? clone(plan.outputs) : clone(r.inputs);
}

function providerOf(r: RecordedResource, plan: Plan): PolicyProviderResource | undefined {
  const urn = providerUrn(r.provider);
  const p = urn ? indexOf(plan).get(urn) : undefined;
  return p ? lazyProps({ type: p.type, urn: p.urn, name: p.name }, p, plan) : undefined;
}

function configOf(config: Record<string, any>, name: string): () => any {
  return () => {
    const { enforcementLevel: _level, ...rest } = (config[name] ?? {}) as Record<string, unknown>;
    return rest;
  };
}

/** The arguments the engine would hand `validateResource` for `r`. */
export function resourceArgs(r: RecordedResource, plan: Plan, config: () => any, sink?: (e: Evidence) => void): ResourceValidationArgs {
  const args = lazyProps(
    {
      type: r.type,
      urn: r.urn,
      name: r.name,
      opts: optionsOf(r),
      stackTags: new Map(),
      isType: (cls: any) => isTypeOf(r.type, cls),
      asType: ((cls: any) => (isTypeOf(r.type, cls) ? args.props : undefined)) as ResourceValidationArgs["asType"],
      getConfig: config,
      notApplicable: throwNotApplicable,
      [EVIDENCE_SINK]: sink,
    } as Omit<ResourceValidationArgs, "props"> & { [EVIDENCE_SINK]?: (e: Evidence) => void },
    r,
    plan,
  ) as ResourceValidationArgs;
  const provider = providerOf(r, plan);
  if (provider) args.provider = provider;
  return args;
}

/** The resources the engine would hand `validateStack`, with parents and dependencies linked. */
export function stackResources(plan: Plan): PolicyResource[] {
  const out = new Map<string, PolicyResource>();
  for (const r of plan.resources) {
    const resource: PolicyResource = lazyProps(
      {
        type: r.type,
        urn: r.urn,
        name: r.name,
        opts: optionsOf(r),
        dependencies: [],
        propertyDependencies: {},
        isType: (cls: any) => isTypeOf(r.type, cls),
        asType: ((cls: any) => (isTypeOf(r.type, cls) ? resource.props : undefined)) as PolicyResource["asType"],
      } as Omit<PolicyResource, "props">,
      r,
      plan,
    ) as PolicyResource;
    const provider = providerOf(r, plan);
    if (provider) resource.provider = provider;
    out.set(r.urn, resource);
  }
  for (const r of plan.resources) {
    const resource = out.get(r.urn)!;
    if (r.parent && out.has(r.parent)) resource.parent = out.get(r.parent);
    resource.dependencies = r.dependsOn.map((u) => out.get(u)).filter((x): x is PolicyResource => !!x);
  }
  return [...out.values()];
}

async function evaluateControl(control: Control, plan: Plan, packConfig: Record<string, any>): Promise<ControlResult> {
  const enforcementLevel: EnforcementLevel = packConfig[control.name]?.enforcementLevel ?? packConfig.all?.enforcementLevel ?? control.enforcementLevel ?? "mandatory";
  const violations: Violation[] = [];
  const evidence: Evidence[] = [];
  const sink = (e: Evidence) => evidence.push(e);
  const config = configOf(packConfig, control.name);
  const result: ControlResult = {
    name: control.name,
    description: control.description,
    severity: control.severity,
    enforcementLevel,
    references: control.references,
    remediation: control.remediationSteps,
    status: "pass",
    violations,
    evidence,
    evaluated: 0,
  };
  if (enforcementLevel === "disabled") return { ...result, status: "not-applicable", reason: "disabled by pack config" };

  const reasons = new Set<string>();
  try {
    if (isStackControl(control)) {
      const args: StackValidationArgs & { [EVIDENCE_SINK]?: (e: Evidence) => void } = {
        resources: stackResources(plan),
        stackTags: new Map(),
        getConfig: config,
        notApplicable: throwNotApplicable,
        [EVIDENCE_SINK]: sink,
      };
      try {
        await control.validateStack(args, (message, urn) => violations.push({ message, ...(urn ? { urn } : {}) }));
        result.evaluated = 1;
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
        reasons.add(e.reason ?? "not applicable");
      }
    } else {
      const validations = Array.isArray(control.validateResource) ? control.validateResource : control.validateResource ? [control.validateResource] : [];
      for (const r of plan.resources) {
        const args = resourceArgs(r, plan, config, sink);
        let applied = false;
        for (const validate of validations) {
          try {
            await validate(args, (message) => violations.push({ message, urn: r.urn }));
            applied = true;
          } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
            if (!e.reason?.includes("does not apply to")) reasons.add(e.reason ?? "not applicable");
          }
        }
        if (applied) result.evaluated++;
      }
    }
  } catch (e) {
    return { ...result, status: "error", reason: e instanceof Error ? e.message : String(e) };
  }
  if (violations.length > 0) result.status = "fail";
  else if (evidence.length === 0) {
    // Nothing was checked: a pass here would be vacuous.
    result.status = "not-applicable";
    result.reason = reasons.size > 0 ? [...reasons].join("; ") : `nothing in scope${control.scope ? ` (no ${control.scope})` : ""}`;
  }
  return result;
}

/**
 * Evaluates every control of the pack on `plan`, with the pack config the environment's tier and
 * features give (the same object `policy/config/<stack>.json` holds for the CLI).
 */
export async function evaluatePlan(plan: Plan, env: EnvironmentProfile, controls: Control[] = packControls): Promise<AuditResult> {
  const packConfig = packConfigFor(env) as Record<string, any>;
  const results: ControlResult[] = [];
  for (const c of controls) results.push(await evaluateControl(c, plan, packConfig));
  const failedAt = (level: EnforcementLevel) => results.filter((r) => (r.status === "fail" || r.status === "error") && r.enforcementLevel === level).length;
  return {
    project: plan.project,
    stack: plan.stack,
    tier: env.tier,
    pack: { name: PACK_NAME, version: PACK_VERSION },
    resources: plan.resources.length,
    controls: results,
    summary: {
      total: results.length,
      passed: results.filter((r) => r.status === "pass").length,
      failed: results.filter((r) => r.status === "fail").length,
      notApplicable: results.filter((r) => r.status === "not-applicable").length,
      errors: results.filter((r) => r.status === "error").length,
      mandatoryFailures: failedAt("mandatory"),
      advisoryFailures: failedAt("advisory"),
    },
  };
}
