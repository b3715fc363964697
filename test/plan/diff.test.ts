import { describe, expect, it } from "vitest";
import { diffPlans, propertyChanges, renderDiff, type PlanDiff } from "../../infra/plan/diff";
import { environments } from "../../stacks";
import { cachedPlan, planProgram, planStack, type Plan } from "../harness";
import { sampleProgram, type SampleOptions } from "./sample";

const base = planProgram("dev", sampleProgram());
const variant = (o: SampleOptions) => planProgram("dev", sampleProgram(o));

function entry(diff: PlanDiff, section: "replaced" | "updated", name: string, type: string) {
  const found = diff[section].find((r) => r.name === name && r.type === type);
  if (!found) throw new Error(`${type} ${name} not in ${section}: ${JSON.stringify(diff[section].map((r) => `${r.type} ${r.name}`))}`);
  return found;
}

describe("the plan diff", () => {
  it("names the Deployment and the Kafka node pool whose replica counts change, and the property", async () => {
    const diff = diffPlans(await base, await variant({ appReplicas: 4, kafkaReplicas: 5 }));
    expect(entry(diff, "updated", "web", "kubernetes:apps/v1:Deployment").changes).toEqual([{ path: "spec.replicas", before: 2, after: 4 }]);
    expect(entry(diff, "updated", "brokers", "kubernetes:kafka.strimzi.io/v1:KafkaNodePool").changes).toEqual([{ path: "spec.replicas", before: 3, after: 5 }]);
    expect(diff.replaced).toEqual([]);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.outputs).toEqual([{ path: "appReplicas", before: 2, after: 4 }]);

    const md = renderDiff(diff);
    expect(md).toContain("**0 to add, 0 to replace, 2 to update, 0 to remove**");
    expect(md).toContain("- `kubernetes:apps/v1:Deployment` **web** (`shop/web`)\n  - `spec.replicas`: `2` → `4`");
    expect(md).toContain("**brokers** (`shop-infra/brokers`)\n  - `spec.replicas`: `3` → `5`");
  });

  it("reports no change between two plans of the same program", async () => {
    const diff = diffPlans(await base, await variant({}));
    expect(renderDiff(diff)).toMatch(/^## Plan diff: diaspomoney-platform\/dev\n\nNo changes \(\d+ resources unchanged\)\.\n$/);
  });

  it("calls a change of an immutable field a replacement and says which field", async () => {
    const diff = diffPlans(await base, await variant({ appSelectorLabel: "web-v2" }));
    const deployment = entry(diff, "replaced", "web", "kubernetes:apps/v1:Deployment");
    expect(deployment.replaceReasons).toEqual(["`spec.selector.matchLabels[\"app.kubernetes.io/name\"]` cannot change in place"]);
    // The Service's selector is mutable: an update, not a replacement.
    expect(entry(diff, "updated", "web", "kubernetes:core/v1:Service").changes[0].path).toBe('spec.selector["app.kubernetes.io/name"]');
  });

  it("replaces everything a Kubernetes provider manages when its cluster identity changes", async () => {
    const diff = diffPlans(await base, await variant({ clusterIdentifier: "cluster-02" }));
    expect(entry(diff, "replaced", "kubernetes", "pulumi:providers:kubernetes").replaceReasons).toEqual(["`clusterIdentifier` identifies the target"]);
    const deployment = entry(diff, "replaced", "web", "kubernetes:apps/v1:Deployment");
    expect(deployment.changes).toEqual([]);
    expect(deployment.replaceReasons).toEqual(["its provider `kubernetes` is replaced"]);
    // The Cloudflare record has its own provider.
    expect(diff.replaced.map((r) => r.type)).not.toContain("cloudflare:index/dnsRecord:DnsRecord");
  });

  it("lists added and removed resources, and protected removals", async () => {
    const head = structuredClone(await base);
    const removed = head.resources.findIndex((r) => r.type === "kubernetes:core/v1:ServiceAccount");
    const [sa] = head.resources.splice(removed, 1);
    head.resources.push({ ...structuredClone(sa), urn: `${sa.urn}-new`, name: `${sa.name}-new` });
    const baseProtected: Plan = { ...(await base), resources: (await base).resources.map((r) => (r.urn === sa.urn ? { ...r, protect: true } : r)) };
    const diff = diffPlans(baseProtected, head);
    expect(diff.added.map((r) => r.name)).toEqual(["web-runner-new"]);
    expect(diff.removed.map((r) => r.name)).toEqual(["web-runner"]);
    expect(renderDiff(diff)).toContain("**web-runner** **(protected: the deployment will refuse until `protect` is lifted)**");
  });

  it("applies the replacement rules of StatefulSets, Services, names and content", () => {
    const res = (type: string, inputs: Record<string, unknown>, urn = `urn:x::${type}::a`) => ({
      urn, type, name: "a", custom: true, parent: null, provider: null, dependsOn: [], protect: false, retainOnDelete: false, inputs,
    });
    const plan = (...resources: ReturnType<typeof res>[]): Plan => ({ project: "p", stack: "s", resources, outputs: {} });
    const sts = (size: string, replicas: number) =>
      res("kubernetes:apps/v1:StatefulSet", { metadata: { name: "db" }, spec: { replicas, volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: size } } } }] } });
    const d1 = diffPlans(plan(sts("10Gi", 3)), plan(sts("20Gi", 3)));
    expect(d1.replaced[0].replaceReasons).toEqual(["`spec.volumeClaimTemplates[name=data].spec.resources.requests.storage` cannot change in place"]);
    expect(diffPlans(plan(sts("10Gi", 3)), plan(sts("10Gi", 5))).updated).toHaveLength(1);

    const svc = (ip: string) => res("kubernetes:core/v1:Service", { metadata: { name: "s" }, spec: { clusterIP: ip } });
    expect(diffPlans(plan(svc("10.0.0.1")), plan(svc("10.0.0.2"))).replaced).toHaveLength(1);

    const renamed = diffPlans(plan(res("kubernetes:core/v1:ConfigMap", { metadata: { name: "a" } })), plan(res("kubernetes:core/v1:ConfigMap", { metadata: { name: "b" } })));
    expect(renamed.replaced[0].replaceReasons).toEqual(["`metadata.name` cannot change in place"]);

    const cm = (v: string) => res("kubernetes:core/v1:ConfigMap", { metadata: { name: "c" }, data: { k: v } });
    expect(diffPlans(plan(cm("1")), plan(cm("2"))).replaced[0].replaceReasons[0]).toContain("enableConfigMapMutable");

    const pw = (length: number) => res("random:index/randomPassword:RandomPassword", { length });
    expect(diffPlans(plan(pw(24)), plan(pw(32))).replaced[0].replaceReasons).toEqual(["any input change regenerates it"]);
  });

  it("never shows a secret: masked values stay masked and only key changes are visible", async () => {
    const a = await base;
    const b = structuredClone(a);
    const secret = b.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!;
    (secret.inputs as any).stringData.KAFKA_CA_CERT = "[secret]";
    const diff = diffPlans(a, b);
    const md = renderDiff(diff);
    expect(entry(diff, "replaced", "connection", "kubernetes:core/v1:Secret").changes).toEqual([{ path: "stringData.KAFKA_CA_CERT", before: undefined, after: "[secret]" }]);
    expect(md).not.toMatch(/offline-placeholder|events-kafka-bootstrap/);
  });

  it("matches named list items by name, so an insertion is one change", () => {
    const a = { containers: [{ name: "web", image: "a" }] };
    const b = { containers: [{ name: "sidecar", image: "s" }, { name: "web", image: "b" }] };
    expect(propertyChanges(a, b)).toEqual([
      { path: "containers[name=web].image", before: "a", after: "b" },
      { path: "containers[name=sidecar]", before: undefined, after: { name: "sidecar", image: "s" } },
    ]);
  });
});

describe("the diff of a real stack", () => {
  it("shows a change of the app's replica range and replaces nothing", async () => {
    const prod = environments.prod as { app: { replicas: number; maxReplicas: number } };
    const before = await cachedPlan("prod");
    const saved = { ...prod.app };
    let after: Plan;
    try {
      // The minimum only: the namespace's quota is sized for the maximum, with 10 % headroom.
      prod.app.replicas = saved.replicas + 1;
      after = await planStack("prod");
    } finally {
      Object.assign(prod.app, saved);
    }
    const diff = diffPlans(before, after);
    expect(diff.replaced).toEqual([]);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.outputs).toEqual(
      expect.arrayContaining([{ path: "environment.appReplicas.min", before: saved.replicas, after: saved.replicas + 1 }]),
    );
    expect(renderDiff(diff)).toContain(`\`environment.appReplicas.min\`: \`${saved.replicas}\` → \`${saved.replicas + 1}\``);
  });
});
