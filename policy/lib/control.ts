import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { EXCEPTIONS, type AcceptedException } from "../exceptions";
import { refLabel, refTag, withSoc2, type FrameworkRef } from "./frameworks";
import { renderValue } from "./secrets";

/**
 * What a policy needs to know about the environment it runs against. The real CLI receives it as pack
 * config (`policy/config/<stack>.json`); the offline audit derives the same object from the stack's
 * spec. Missing keys take the strict value (see {@link DEFAULT_SETTINGS}).
 */
export interface PackSettings {
  /** Production rules: images pinned by digest, stateful resources protected, PITR. */
  production: boolean;
  /** This stack owns the Cloudflare zone settings, which must then exist and be strict. */
  managesZone: boolean;
  /** This stack runs MongoDB Atlas, whose cluster, backups, encryption and auditing must then exist. */
  atlas: boolean;
  /** This stack must run Cloudflare's managed WAF rulesets. */
  waf: boolean;
  /**
   * This stack is a cluster stack (cluster-nonprod, cluster-prod): it owns the CRDs and what is
   * cluster-wide. An environment stack owns none of that.
   */
  clusterLayer: boolean;
}

/** Fail closed: a stack without pack config is held to production rules. */
export const DEFAULT_SETTINGS: PackSettings = { production: true, managesZone: false, atlas: false, waf: false, clusterLayer: false };

const SETTINGS_SCHEMA: Record<keyof PackSettings, { type: "boolean"; description: string }> = {
  production: { type: "boolean", description: "Apply production rules (digests, protection, point-in-time recovery)." },
  managesZone: { type: "boolean", description: "The stack owns the Cloudflare zone settings." },
  atlas: { type: "boolean", description: "The stack runs MongoDB Atlas." },
  waf: { type: "boolean", description: "The stack must run Cloudflare's managed WAF rulesets." },
  clusterLayer: { type: "boolean", description: "The stack is a cluster stack, owner of the CRDs and of what is cluster-wide." },
};

/** A resource as a control sees it, whether it comes from the CLI or from `plan.json`. */
export interface Subject {
  urn: string;
  type: string;
  name: string;
  props: Record<string, any>;
  /**
   * Resource options. `retainOnDelete` is not part of CrossGuard's options: the offline audit adds it
   * from the plan, and controls check it only where it is present.
   */
  opts?: { protect?: boolean; retainOnDelete?: boolean };
}

/** One observation a control made: what it looked at, the value it found, and whether that holds. */
export interface Evidence {
  control: string;
  urn: string;
  resource: string;
  property: string;
  /** Rendered for humans, secrets masked. */
  value: string;
  ok: boolean;
  /** For a failure, the requirement that was not met. */
  requirement?: string;
  /** Set when the value fails the requirement but the register of accepted exceptions covers it. */
  exception?: string;
}

/**
 * The offline audit attaches a sink under this symbol to the args it hands a policy, so that a
 * control records what it checked and found compliant as well as its violations. The CLI's args
 * carry no such key: there, only violations are reported, as CrossGuard expects.
 */
export const EVIDENCE_SINK = Symbol.for("diaspomoney.policy.evidence");
export type EvidenceSink = (e: Evidence) => void;

function kindOf(s: Subject): string {
  return typeof s.props?.kind === "string" ? s.props.kind : (s.type.split(":").pop() ?? s.type);
}

function acceptedException(control: string, s: Subject, property: string): AcceptedException | undefined {
  const name = typeof s.props?.metadata?.name === "string" ? s.props.metadata.name : s.name;
  return EXCEPTIONS.find((e) => e.control === control && e.kind === kindOf(s) && e.name === name && e.property.test(property));
}

export function describe(s: Subject): string {
  const kind = s.props?.kind;
  const meta = s.props?.metadata;
  if (s.type.startsWith("kubernetes:") && typeof kind === "string") {
    const name = typeof meta?.name === "string" ? meta.name : s.name;
    const ns = typeof meta?.namespace === "string" ? `${meta.namespace}/` : "";
    return `${kind} ${ns}${name}`;
  }
  const short = s.type.split(":").pop() ?? s.type;
  return `${short} "${s.name}"`;
}

/** Collects a control's observations and turns failures into CrossGuard violations. */
export class Findings {
  private failures = 0;
  private checks = 0;

  constructor(
    private readonly control: string,
    private readonly refs: FrameworkRef[],
    private readonly report: ReportViolation,
    private readonly perResourceUrn: boolean,
    private readonly sink?: EvidenceSink,
  ) {}

  get failed(): number {
    return this.failures;
  }

  get checked(): number {
    return this.checks;
  }

  pass(s: Subject, property: string, value: unknown): void {
    this.checks++;
    this.sink?.({ control: this.control, urn: s.urn, resource: describe(s), property, value: renderValue(property, value), ok: true });
  }

  fail(s: Subject, property: string, value: unknown, requirement: string): void {
    this.checks++;
    const rendered = renderValue(property, value);
    const accepted = acceptedException(this.control, s, property);
    if (accepted) {
      this.sink?.({ control: this.control, urn: s.urn, resource: describe(s), property, value: rendered, ok: true, requirement, exception: accepted.reason });
      return;
    }
    this.failures++;
    this.sink?.({ control: this.control, urn: s.urn, resource: describe(s), property, value: rendered, ok: false, requirement });
    const refs = this.refs.map(refLabel).join(", ");
    const message = `${describe(s)}: ${property} is ${rendered}; ${requirement} [${refs}]`;
    if (this.perResourceUrn && s.urn) this.report(message, s.urn);
    else this.report(message);
  }

  /** `pass` when `ok`, `fail` otherwise. */
  expect(ok: boolean, s: Subject, property: string, value: unknown, requirement: string): boolean {
    if (ok) this.pass(s, property, value);
    else this.fail(s, property, value, requirement);
    return ok;
  }
}

interface ControlSpec {
  /** Unique, URL-safe: the control id in reports and in pack config. */
  name: string;
  description: string;
  severity: Severity;
  /** The first reference is the policy's `framework`; all of them become tags and report columns. */
  refs: [FrameworkRef, ...FrameworkRef[]];
  remediation: string;
  /** Settings the control reads; they become its config schema. */
  settings?: (keyof PackSettings)[];
}

export interface ResourceControlSpec extends ControlSpec {
  /** Resource types (exact Pulumi type tokens) or a predicate. */
  appliesTo: string[] | ((s: Subject) => boolean);
  /** What the control looks at, for "not applicable" reports; derived from `appliesTo` when it is a list. */
  scope?: string;
  /** Returns a reason when this resource is out of scope for the stack's settings. */
  check(s: Subject, f: Findings, settings: PackSettings): void | { notApplicable: string };
}

export interface StackControlSpec extends ControlSpec {
  /** Returns a reason when nothing in the stack is in scope. */
  check(resources: PolicyResource[], f: Findings, settings: PackSettings): void | { notApplicable: string };
}

/** What the pack exports for every control: a CrossGuard policy plus the references it cites. */
export type Control = (ResourceValidationPolicy | StackValidationPolicy) & {
  severity: Severity;
  framework: FrameworkRef;
  references: FrameworkRef[];
  remediationSteps: string;
  /** The settings the control reads (its config schema's properties). */
  settings: (keyof PackSettings)[];
  /** What a resource control looks at (stack controls say it in their not-applicable reasons). */
  scope?: string;
};

function common(spec: ControlSpec) {
  const settings = spec.settings ?? [];
  const references = withSoc2(spec.refs);
  return {
    name: spec.name,
    description: spec.description,
    // The level prod and rct need; dev's pack config lowers it to advisory.
    enforcementLevel: "mandatory" as const,
    severity: spec.severity,
    framework: spec.refs[0],
    // The PCI DSS and GDPR requirements the control cites, then the SOC 2 criteria they support.
    references,
    tags: references.map(refTag),
    remediationSteps: spec.remediation,
    settings,
    ...(settings.length > 0
      ? { configSchema: { properties: Object.fromEntries(settings.map((k) => [k, SETTINGS_SCHEMA[k]])) } }
      : {}),
  };
}

function settingsOf(args: { getConfig<T extends object>(): T }): PackSettings {
  const configured = args.getConfig<Partial<PackSettings>>() ?? {};
  return { ...DEFAULT_SETTINGS, ...configured };
}

function sinkOf(args: object): EvidenceSink | undefined {
  return (args as Record<symbol, EvidenceSink | undefined>)[EVIDENCE_SINK];
}

export function resourceControl(spec: ResourceControlSpec): Control {
  const applies = typeof spec.appliesTo === "function" ? spec.appliesTo : ((types: string[]) => (s: Subject) => types.includes(s.type))(spec.appliesTo);
  const policy: Pick<ResourceValidationPolicy, "validateResource"> = {
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      // props read when the check reads them: the offline audit copies them only then.
      const subject: Subject = {
        urn: args.urn,
        type: args.type,
        name: args.name,
        get props() {
          return args.props;
        },
        opts: args.opts,
      };
      if (!applies(subject)) args.notApplicable(`${spec.name} does not apply to ${args.type}`);
      const result = spec.check(subject, new Findings(spec.name, withSoc2(spec.refs), report, false, sinkOf(args)), settingsOf(args));
      if (result && "notApplicable" in result) args.notApplicable(result.notApplicable);
    },
  };
  const scope = spec.scope ?? (Array.isArray(spec.appliesTo) ? [...new Set(spec.appliesTo.map((t) => t.split(":").pop()))].join(", ") : undefined);
  return { ...common(spec), ...policy, scope } as Control;
}

export function stackControl(spec: StackControlSpec): Control {
  const policy: Pick<StackValidationPolicy, "validateStack"> = {
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const result = spec.check(args.resources, new Findings(spec.name, withSoc2(spec.refs), report, true, sinkOf(args)), settingsOf(args));
      if (result && "notApplicable" in result) args.notApplicable(result.notApplicable);
    },
  };
  return { ...common(spec), ...policy } as Control;
}

/** A stack policy's resource as a {@link Subject}. */
export function subjectOf(r: PolicyResource): Subject {
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    get props() {
      return r.props;
    },
    opts: r.opts,
  };
}

/** Where a stack-wide finding is reported when no single resource is at fault: the stack itself. */
export function stackAnchor(all: Subject[]): Subject {
  return all.find((r) => r.type === "pulumi:pulumi:Stack") ?? { urn: "", type: "pulumi:pulumi:Stack", name: "stack", props: {} };
}

export function isStackControl(c: Control): c is Control & StackValidationPolicy {
  return typeof (c as StackValidationPolicy).validateStack === "function";
}
