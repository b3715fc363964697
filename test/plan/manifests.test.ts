import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { CLUSTER_FILE, declaredObjects, fileFor, renderManifests, type Manifest } from "../../infra/plan/manifests";
import { SECRET } from "../../infra/plan/recorder";
import { cachedPlan, planProgram, STACKS, type Plan } from "../harness";
import { sampleProgram } from "./sample";

function parsed(files: Map<string, string>): Map<string, Manifest[]> {
  return new Map([...files].map(([f, text]) => [f, YAML.parseAllDocuments(text).map((d) => d.toJS() as Manifest)]));
}

describe("manifests of the sample program", () => {
  const plan = planProgram("dev", sampleProgram());

  it("puts objects in one file per namespace and cluster-scoped ones in cluster.yaml", async () => {
    const files = parsed(renderManifests(await plan));
    expect([...files.keys()]).toEqual([CLUSTER_FILE, "shop-infra.yaml", "shop.yaml"]);
    expect(files.get(CLUSTER_FILE)!.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Namespace/shop", "Namespace/shop-infra", "ClusterIssuer/letsencrypt"]);
    expect(files.get("shop-infra.yaml")!.map((o) => o.kind)).toEqual(["KafkaNodePool"]);
    for (const o of files.get("shop.yaml")!) expect(o.metadata.namespace).toBe("shop");
  });

  it("orders a namespace's objects as Helm installs them, custom resources last", async () => {
    const shop = parsed(renderManifests(await plan)).get("shop.yaml")!;
    expect(shop.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/web-runner-1d8e0ff8",
      "Secret/data-connections",
      "ConfigMap/dashboards",
      "ConfigMap/web-settings",
      "Service/web",
      "Deployment/web",
      "IngressRoute/web",
      "ServiceMonitor/web",
    ]);
  });

  it("writes plain objects: apiVersion, kind, metadata first, the spec as declared", async () => {
    const shop = parsed(renderManifests(await plan)).get("shop.yaml")!;
    const deployment = shop.find((o) => o.kind === "Deployment")!;
    expect(Object.keys(deployment)).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    expect(deployment.apiVersion).toBe("apps/v1");
    expect((deployment.spec as any).replicas).toBe(2);
    // The Secret's name came from another resource's output and resolved.
    expect((deployment.spec as any).template.spec.containers[0].envFrom[0].secretRef.name).toBe("data-connections");
  });

  it("masks every Secret value and keeps the keys", async () => {
    const files = renderManifests(await plan);
    const secret = parsed(files).get("shop.yaml")!.find((o) => o.kind === "Secret")!;
    expect(secret.stringData).toEqual({ KAFKA_BROKERS: SECRET, KAFKA_PASSWORD: SECRET });
    expect(files.get("shop.yaml")).not.toContain("events-kafka-bootstrap");
  });

  it("leaves Helm charts and releases out, and includes objects given inline to a ConfigGroup", async () => {
    const p = await plan;
    const kinds = declaredObjects(p).map((d) => d.manifest.kind);
    expect(kinds).not.toContain("Chart");
    expect(kinds).not.toContain("Release");
    expect(declaredObjects(p).find((d) => d.manifest.metadata.name === "dashboards")!.urn).toContain("ConfigGroup::dashboards");
  });

  it("quotes strings a YAML 1.1 reader would take for booleans", async () => {
    expect(renderManifests(await plan).get("shop.yaml")).toContain('ENABLED: "yes"');
  });

  it("strips the engine's internal keys", async () => {
    const p = structuredClone(await plan);
    const deployment = p.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    (deployment.inputs as any).__defaults = [];
    (deployment.inputs as any).spec.template.__inputs = {};
    const text = renderManifests(p).get("shop.yaml")!;
    expect(text).not.toContain("__defaults");
    expect(text).not.toContain("__inputs");
  });

  it("is byte-for-byte the same for the same plan, whatever the registration order", async () => {
    const p = await plan;
    const again = await planProgram("dev", sampleProgram());
    const shuffled: Plan = { ...p, resources: [...p.resources].reverse() };
    expect(renderManifests(again)).toEqual(renderManifests(p));
    expect(renderManifests(shuffled)).toEqual(renderManifests(p));
  });

  it("files a namespaced object without a namespace under default.yaml, where the provider would create it", () => {
    expect(fileFor({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } })).toBe("default.yaml");
    expect(fileFor({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "x" } })).toBe(CLUSTER_FILE);
  });
});

describe.each(STACKS)("manifests of %s", (stack) => {
  it("hold every Kubernetes object of the plan exactly once", async () => {
    const plan = await cachedPlan(stack);
    const expected = plan.resources.filter((r) => r.custom && /^kubernetes:(?!helm\.sh\/)[^:]+:(?!.*Patch$)/.test(r.type)).length;
    const objects = [...parsed(renderManifests(plan)).values()].flat();
    const inline = declaredObjects(plan).filter((d) => d.urn.includes("kubernetes:yaml/")).length;
    expect(objects.length).toBe(expected + inline);
    const ids = objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name)).toEqual(
      expect.arrayContaining([`diaspomoney-${stack}`, `diaspomoney-${stack}-infra`]),
    );
  });
});
