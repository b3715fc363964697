/**
 * Hand-built resources for the policy tests, evaluated through the same adapter as the audit
 * (infra/compliance/evaluate.ts): each control's own validateResource / validateStack, with args built
 * as the engine builds them.
 */
import type { RecordedResource } from "../../infra/plan/recorder";
import type { Plan } from "../../infra/plan/run";
import { evaluatePlan, type ControlResult } from "../../infra/compliance/evaluate";
import type { Control } from "../../policy/lib/control";
import type { EnvironmentProfile } from "../../policy/policies";

export const PROD: EnvironmentProfile = { tier: "production", features: { atlas: true, waf: true, manageZone: true } };
export const ACCEPTANCE: EnvironmentProfile = { tier: "acceptance", features: { atlas: false, waf: false, manageZone: false } };
export const DEV: EnvironmentProfile = { tier: "development", features: { atlas: false, waf: false, manageZone: false } };

const STACK_URN = "urn:pulumi:test::diaspomoney-platform::pulumi:pulumi:Stack::diaspomoney-platform-test";

export interface Hand {
  type: string;
  name: string;
  /** Default: a child of the stack (`urn:...::<type>::<name>`). */
  urn?: string;
  inputs: Record<string, unknown>;
  protect?: boolean;
  retainOnDelete?: boolean;
  parent?: string;
  provider?: string;
  dependsOn?: string[];
}

export function urnOf(h: Pick<Hand, "type" | "name">): string {
  return `urn:pulumi:test::diaspomoney-platform::${h.type}::${h.name}`;
}

/** A plan holding the stack resource (with `outputs`) and the given resources. */
export function planOf(resources: Hand[], outputs: Record<string, unknown> = {}): Plan {
  const records: RecordedResource[] = [
    { urn: STACK_URN, type: "pulumi:pulumi:Stack", name: "diaspomoney-platform-test", custom: false, parent: null, provider: null, dependsOn: [], protect: false, retainOnDelete: false, inputs: {} },
    ...resources.map((h) => ({
      urn: h.urn ?? urnOf(h),
      type: h.type,
      name: h.name,
      custom: true,
      parent: h.parent ?? STACK_URN,
      provider: h.provider ?? null,
      dependsOn: h.dependsOn ?? [],
      protect: h.protect ?? false,
      retainOnDelete: h.retainOnDelete ?? false,
      inputs: h.inputs,
    })),
  ];
  return { project: "diaspomoney-platform", stack: "test", resources: records, outputs };
}

/** Evaluates one control on hand-built resources. */
export async function evaluate(control: Control, resources: Hand[], env: EnvironmentProfile = PROD, outputs: Record<string, unknown> = {}): Promise<ControlResult> {
  const audit = await evaluatePlan(planOf(resources, outputs), env, [control]);
  return audit.controls[0];
}

/** A Kubernetes object as the Pulumi Kubernetes provider registers it. */
export function k8s(type: string, name: string, namespace: string | undefined, body: Record<string, unknown>, extra: Partial<Hand> = {}): Hand {
  const [, apiVersion, kind] = /^kubernetes:(.+):(\w+)$/.exec(type)!;
  const { metadata, ...rest } = body as { metadata?: Record<string, unknown> };
  return {
    type,
    name: `${name}-${kind.toLowerCase()}`,
    inputs: { apiVersion: apiVersion.replace(/^core\//, ""), kind, metadata: { name, ...(namespace ? { namespace } : {}), ...(metadata ?? {}) }, ...rest },
    ...extra,
  };
}

export const restrictedContainer = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};

export const DIGEST = "sha256:4f9d2c1b8a7e6f5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c";

/** A Deployment that meets every workload control; `patch` changes its pod spec. */
export function deployment(name = "web", patch: (pod: any, spec: any) => void = () => undefined, ns = "diaspomoney-prod"): Hand {
  const labels = { "app.kubernetes.io/name": name };
  const pod: any = {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } }],
    containers: [
      {
        name,
        image: `ghcr.io/diaspomoney/${name}:1.0.0@${DIGEST}`,
        ports: [{ name: "http", containerPort: 3000 }],
        securityContext: { ...restrictedContainer },
        resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        readinessProbe: { httpGet: { path: "/api/health/ready", port: "http" } },
        livenessProbe: { httpGet: { path: "/api/health", port: "http" } },
        env: [{ name: "NODE_ENV", value: "production" }],
      },
    ],
    volumes: [{ name: "tmp", emptyDir: {} }],
  };
  const spec: any = { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod } };
  patch(pod, spec);
  return k8s("kubernetes:apps/v1:Deployment", name, ns, { spec });
}

/** The messages of a result's violations, for assertions. */
export function messages(r: ControlResult): string[] {
  return r.violations.map((v) => v.message);
}
