import { describe, expect, it } from "vitest";
import { CRD_SOURCES, crdFiles, crdKinds, crdLocation, crdUrl } from "../../infra/crds";
import { crdReleases } from "../../infra/versions";
import { cachedPlan, CLUSTER_STACKS, inputs, ofType, planStack, STACKS, type Plan, type RecordedResource } from "../harness";

const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";

/** ConfigFiles of the stack's PlatformCrds component. */
function crdConfigFiles(plan: Plan): RecordedResource[] {
  const crds = plan.resources.find((r) => r.type === "diaspomoney:cluster:PlatformCrds");
  return crds ? plan.resources.filter((r) => r.parent === crds.urn) : [];
}

/** `group/Kind` of the custom resources a plan declares (every `kubernetes:<group>/<version>:<Kind>` outside the core groups). */
function customKinds(plan: Plan): Set<string> {
  const core = /^kubernetes:(core|apps|batch|policy|autoscaling|networking\.k8s\.io|rbac\.authorization\.k8s\.io|helm\.sh|yaml|apiextensions\.k8s\.io)\//;
  return new Set(
    plan.resources
      .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !core.test(r.type))
      .map((r) => {
        const [, group, kind] = /^kubernetes:([^/]+)\/[^:]+:(.+)$/.exec(r.type)!;
        return `${group}/${kind}`;
      }),
  );
}

describe.each(CLUSTER_STACKS)("the CRDs of %s", (stack) => {
  it("are every file of the catalogue, each protected and retained, read from its pinned release", async () => {
    const plan = await cachedPlan(stack);
    const files = crdConfigFiles(plan);
    const expected = crdFiles("managed");
    expect(files).toHaveLength(expected.length);
    for (const { source, file } of expected) {
      const found = files.find((r) => inputs(r).file === crdUrl(source, file));
      expect(found, file.file).toBeDefined();
      expect([found!.protect, found!.retainOnDelete], file.file).toEqual([true, true]);
      expect(inputs(found!).file).toContain(`/${crdReleases[source.release]}/`);
    }
  });

  it("are applied before the controllers that serve them", async () => {
    const plan = await cachedPlan(stack);
    const crdUrns = crdConfigFiles(plan).map((r) => r.urn);
    const charts = ofType(plan, "kubernetes:helm.sh/v4:Chart");
    expect(charts.length).toBeGreaterThan(0);
    const certManager = charts.find((c) => inputs(c).chart === "cert-manager")!;
    expect(certManager.dependsOn).toEqual(expect.arrayContaining(crdUrns));
  });
});

describe("the CRD catalogue", () => {
  it("covers every custom resource kind any environment declares, with the CRDs of the platform's own objects", async () => {
    const own = crdKinds("external");
    for (const stack of STACKS) {
      const plan = await cachedPlan(stack);
      const missing = [...customKinds(plan)].filter((k) => !own.has(k));
      expect(missing, stack).toEqual([]);
    }
  });

  it("moves a CRD's URL with its release: a version bump upgrades the CRDs", () => {
    const strimzi = CRD_SOURCES.find((s) => s.release === "strimzi")!;
    expect(crdUrl(strimzi, strimzi.files[0])).toBe(
      `https://raw.githubusercontent.com/strimzi/strimzi-kafka-operator/${crdReleases.strimzi}/install/cluster-operator/040-Crd-kafka.yaml`,
    );
    expect(crdLocation(strimzi, strimzi.files[0], { kind: "directory", directory: "/mirror/crds/" })).toBe("/mirror/crds/strimzi/040-Crd-kafka.yaml");
  });

  it("applies only the platform's own CRDs where another team runs the controllers", () => {
    const external = crdFiles("external").map((f) => f.file.file);
    expect(external).toContain("040-Crd-kafka.yaml");
    expect(external).not.toContain("crd-prometheuses.yaml");
    expect(external).not.toContain("acme.cert-manager.io_orders.yaml");
    expect(crdFiles("managed").length).toBeGreaterThan(external.length);
  });

  it("reads a local mirror where the config names one", async () => {
    const plan = await planStack("cluster-nonprod", { config: { crds: { directory: "/mirror/crds" }, services: "external", autoscaler: { mode: "platform" } } });
    const files = crdConfigFiles(plan).map((r) => inputs(r).file as string);
    expect(files.length).toBe(crdFiles("external").length);
    for (const f of files) expect(f).toMatch(/^\/mirror\/crds\/[a-z-]+\/[^/]+\.yaml$/);
    // External services: no chart at all, cert-manager's namespace still prepared for its owners.
    expect(ofType(plan, "kubernetes:helm.sh/v4:Chart")).toEqual([]);
    expect(ofType(plan, "kubernetes:core/v1:Namespace").map((n) => inputs(n).metadata.name)).toEqual(["cert-manager"]);
  });
});

describe.each(STACKS)("the %s environment on the cluster layer", (stack) => {
  const own = [`diaspomoney-${stack}`, `diaspomoney-${stack}-infra`];

  it("holds no CRD, no ConfigFile and no cluster-scoped object but its two namespaces", async () => {
    const plan = await cachedPlan(stack);
    expect(plan.resources.filter((r) => r.type === CONFIG_FILE || r.type.includes("CustomResourceDefinition"))).toEqual([]);
    const clusterScoped = /:(Namespace|ClusterRole|ClusterRoleBinding|ClusterIssuer|StorageClass|PriorityClass|ValidatingWebhookConfiguration|MutatingWebhookConfiguration)$/;
    const found = plan.resources.filter((r) => r.type.startsWith("kubernetes:") && clusterScoped.test(r.type)).map((r) => inputs(r).metadata.name);
    expect(found.sort()).toEqual([...own].sort());
  });

  it("puts every namespaced object, and every chart, in its own two namespaces", async () => {
    const plan = await cachedPlan(stack);
    const elsewhere = plan.resources
      .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.endsWith(":Namespace") && !r.type.startsWith("kubernetes:helm.sh"))
      .filter((r) => !own.includes(inputs(r).metadata?.namespace));
    expect(elsewhere.map((r) => r.urn)).toEqual([]);
    for (const chart of plan.resources.filter((r) => r.type.startsWith("kubernetes:helm.sh"))) {
      expect(own, chart.name).toContain(inputs(chart).namespace);
      expect(inputs(chart).skipCrds, chart.name).toBe(true);
    }
  });
});

describe("what the environments share", () => {
  it("is nothing: no two environment plans hold the same object", async () => {
    const ids = new Map<string, string>();
    for (const stack of STACKS) {
      for (const r of (await cachedPlan(stack)).resources) {
        const m = inputs(r).metadata;
        if (!r.type.startsWith("kubernetes:") || !m?.name) continue;
        const id = `${r.type}/${m.namespace ?? ""}/${m.name}`;
        expect(ids.get(id), `${id} in ${stack} and ${ids.get(id)}`).toBeUndefined();
        ids.set(id, stack);
      }
    }
  });
});
