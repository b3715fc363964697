/**
 * The manifests against the Kubernetes API schemas (kubernetes-models, Kubernetes 1.36) and custom
 * resources against the typed models of their operators where a package exists. The models are
 * ESM-only, hence the dynamic imports. They check types, enums and required fields; unknown fields
 * are not rejected here (../shared/tools/validate-crs does that strictly for custom resources).
 */
import { describe, expect, it } from "vitest";
import { declaredObjects, type Manifest } from "../../infra/plan/manifests";
import { SECRET } from "../../infra/plan/recorder";
import { cachedPlan, planProgram, STACKS } from "../harness";
import { sampleProgram } from "./sample";

/** API groups of custom resources, and the package holding their models. */
const CRD_MODELS: Record<string, string> = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "traefik.io": "@kubernetes-models/traefik",
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "acme.cert-manager.io": "@kubernetes-models/cert-manager",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
};

/**
 * Groups with no model package on npm for the versions we deploy: skipped here, checked strictly by
 * ../shared/tools/validate-crs against the upstream CRDs (CI runs it on every plan).
 */
const WITHOUT_MODEL: Record<string, string> = {
  "kafka.strimzi.io": "Strimzi 1.x (v1 API)",
  "core.strimzi.io": "Strimzi 1.x (v1 API)",
  "psmdb.percona.com": "Percona Server for MongoDB operator",
  "redis.redis.opstreelabs.in": "OT redis-operator",
  "mongodbcommunity.mongodb.com": "MongoDB community operator",
  // A custom resource despite its .k8s.io group; no upstream CRD in ../shared either, so nothing checks it.
  "autoscaling.k8s.io": "Vertical Pod Autoscaler",
};

function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
}

/** The module exporting the model class of `apiVersion`/`kind`, or undefined for a group without models. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  const group = groupOf(apiVersion);
  if (CRD_MODELS[group]) return `${CRD_MODELS[group]}/${apiVersion}/${kind}`;
  if (group === "" || !group.includes(".") || group.endsWith(".k8s.io")) return `kubernetes-models/${apiVersion}/${kind}`;
  return undefined;
}

type Verdict = { status: "valid" } | { status: "skipped"; group: string } | { status: "invalid"; errors: string[] };

/**
 * A Secret's masked `data` values are not base64; give the schema a base64 stand-in instead (the
 * real values are never in a plan).
 */
function unmasked(m: Manifest): Manifest {
  if (m.kind !== "Secret" || !m.data || typeof m.data !== "object") return m;
  const data = Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k, v === SECRET ? Buffer.from(SECRET).toString("base64") : v]));
  return { ...m, data };
}

async function validate(m: Manifest): Promise<Verdict> {
  const group = groupOf(m.apiVersion);
  if (WITHOUT_MODEL[group]) return { status: "skipped", group };
  const spec = modelModule(m.apiVersion, m.kind);
  if (!spec) return { status: "invalid", errors: [`no model for ${m.apiVersion} ${m.kind}: add its package to CRD_MODELS or its group to WITHOUT_MODEL`] };
  let Model: new (data: unknown) => { validate(): void };
  try {
    Model = (await import(/* @vite-ignore */ spec))[m.kind];
  } catch {
    return { status: "invalid", errors: [`${m.apiVersion} ${m.kind} is not a kind the API (${spec}) knows: a typo, or a custom resource to list in CRD_MODELS or WITHOUT_MODEL`] };
  }
  try {
    new Model(unmasked(m)).validate();
    return { status: "valid" };
  } catch (err) {
    const details = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    return { status: "invalid", errors: details?.map((e) => `${e.instancePath} ${e.message}`) ?? [String(err)] };
  }
}

async function invalidObjects(manifests: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of manifests) {
    const v = await validate(m);
    if (v.status === "invalid") problems.push(`${m.kind} ${m.metadata.namespace ?? ""}/${m.metadata.name}: ${v.errors.join("; ")}`);
  }
  return problems;
}

describe("the schema check", () => {
  const sample = planProgram("dev", sampleProgram()).then((p) => declaredObjects(p).map((d) => d.manifest));
  const find = async (kind: string) => structuredClone((await sample).find((m) => m.kind === kind)!);

  it("accepts the sample's core objects and its Traefik, prometheus-operator and cert-manager resources", async () => {
    const verdicts = await Promise.all((await sample).map(async (m) => [m.kind, (await validate(m)).status] as const));
    expect(Object.fromEntries(verdicts)).toMatchObject({
      Deployment: "valid",
      Service: "valid",
      Secret: "valid",
      ConfigMap: "valid",
      Namespace: "valid",
      ServiceAccount: "valid",
      IngressRoute: "valid",
      ServiceMonitor: "valid",
      ClusterIssuer: "valid",
      KafkaNodePool: "skipped",
    });
  });

  it("rejects a Deployment whose replica count is not an integer", async () => {
    const d = await find("Deployment");
    (d.spec as any).replicas = "three";
    expect(await validate(d)).toEqual({ status: "invalid", errors: ["/spec/replicas must be integer"] });
  });

  it("rejects a Deployment without the required selector", async () => {
    const d = await find("Deployment");
    delete (d.spec as any).selector;
    expect(await validate(d)).toMatchObject({ status: "invalid", errors: [expect.stringContaining("selector")] });
  });

  it("rejects custom resources that break their model", async () => {
    const monitor = await find("ServiceMonitor");
    (monitor.spec as any).endpoints = "http";
    expect(await validate(monitor)).toMatchObject({ status: "invalid", errors: ["/spec/endpoints must be array"] });
    const route = await find("IngressRoute");
    delete (route.spec as any).routes;
    expect(await validate(route)).toMatchObject({ status: "invalid", errors: [expect.stringContaining("routes")] });
  });

  it("rejects kinds the API does not know and groups nobody listed", async () => {
    expect(await validate({ apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "x" } })).toMatchObject({ status: "invalid" });
    expect(await validate({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x" } })).toMatchObject({
      status: "invalid",
      errors: [expect.stringContaining("CRD_MODELS")],
    });
  });
});

describe.each(STACKS)("the manifests of %s", (stack) => {
  it("match the Kubernetes API schemas and the models of their custom resources", async () => {
    const manifests = declaredObjects(await cachedPlan(stack)).map((d) => d.manifest);
    expect(manifests.length).toBeGreaterThan(0);
    expect(await invalidObjects(manifests)).toEqual([]);
  });
});
