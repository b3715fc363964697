import { describe, expect, it } from "vitest";
import { chartsInstallNoCrds, crdsKeptByClusterStack, environmentStaysInItsNamespaces } from "../../policy/controls/layering";
import type { EnvironmentProfile } from "../../policy/policies";
import { cachedPlan } from "../harness";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { profileOf } from "../../infra/compliance";
import { ACCEPTANCE, evaluate, k8s, messages, PROD } from "./harness";

const CLUSTER: EnvironmentProfile = { ...PROD, features: { atlas: false, waf: false, manageZone: false }, clusterLayer: true };
const crdFile = (opts: { protect?: boolean; retainOnDelete?: boolean } = {}) => ({
  type: "kubernetes:yaml/v2:ConfigFile",
  name: "crd-kafka.kafka.strimzi.io",
  inputs: { file: "https://raw.githubusercontent.com/strimzi/strimzi-kafka-operator/1.2.0/install/cluster-operator/040-Crd-kafka.yaml" },
  ...opts,
});
const crd = (opts: { protect?: boolean; retainOnDelete?: boolean } = {}) =>
  k8s("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "kafkas.kafka.strimzi.io", undefined, { spec: {} }, opts);

describe("crds-kept-by-cluster-stack", () => {
  it("passes CRDs a cluster stack protects and keeps", async () => {
    expect((await evaluate(crdsKeptByClusterStack, [crdFile({ protect: true, retainOnDelete: true }), crd({ protect: true, retainOnDelete: true })], CLUSTER)).status).toBe("pass");
  });

  it("fails a cluster stack's CRD that is not protected or not kept", async () => {
    const r = await evaluate(crdsKeptByClusterStack, [crd({ protect: false, retainOnDelete: false })], CLUSTER);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^CustomResourceDefinition kafkas\.kafka\.strimzi\.io: protect is false; a CRD is protected/),
      expect.stringMatching(/retainOnDelete is false; a CRD is kept on delete/),
    ]);
  });

  it("fails any CRD in an environment stack, protected or not", async () => {
    const r = await evaluate(crdsKeptByClusterStack, [crd({ protect: true, retainOnDelete: true }), crdFile()], ACCEPTANCE);
    expect(r.status).toBe("fail");
    expect(messages(r)).toHaveLength(2);
    expect(messages(r)[0]).toMatch(/an environment stack declares no CRD: the cluster stack owns them/);
  });
});

describe("environment-owns-nothing-cluster-wide", () => {
  const ns = k8s("kubernetes:core/v1:Namespace", "diaspomoney-rct", undefined, {});
  it("passes an environment with only its namespaces cluster-wide", async () => {
    expect((await evaluate(environmentStaysInItsNamespaces, [ns], ACCEPTANCE)).status).toBe("pass");
  });

  it("fails a ClusterRoleBinding or a ClusterIssuer in an environment stack", async () => {
    const binding = k8s("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "strimzi-global", undefined, { roleRef: {}, subjects: [] });
    const issuer = k8s("kubernetes:cert-manager.io/v1:ClusterIssuer", "diaspomoney-rct-internal-ca", undefined, { spec: {} });
    const r = await evaluate(environmentStaysInItsNamespaces, [ns, binding, issuer], ACCEPTANCE);
    expect(messages(r).map((m) => m.split(":")[0])).toEqual(["ClusterRoleBinding strimzi-global", "ClusterIssuer diaspomoney-rct-internal-ca"]);
  });

  it("does not apply to a cluster stack", async () => {
    expect((await evaluate(environmentStaysInItsNamespaces, [crd()], CLUSTER)).status).toBe("not-applicable");
  });
});

describe("charts-install-no-crds", () => {
  const release = (skipCrds?: boolean) => ({ type: "kubernetes:helm.sh/v3:Release", name: "strimzi", inputs: { chart: "strimzi-kafka-operator", ...(skipCrds === undefined ? {} : { skipCrds }) } });
  it("passes a Release that skips its CRDs", async () => {
    expect((await evaluate(chartsInstallNoCrds, [release(true)], PROD)).status).toBe("pass");
  });
  it("fails a Release or Chart that would install them (the default)", async () => {
    const chart = { type: "kubernetes:helm.sh/v4:Chart", name: "traefik", inputs: { chart: "traefik", skipCrds: false } };
    const r = await evaluate(chartsInstallNoCrds, [release(), chart], PROD);
    expect(messages(r)).toEqual([expect.stringMatching(/skipCrds is false; charts install no CRDs/), expect.stringMatching(/skipCrds is false; charts install no CRDs/)]);
  });
});

describe("the layering controls on the real plans", () => {
  it.each(["dev", "rct", "prod", "cluster-nonprod", "cluster-prod"])("hold on %s", async (stack) => {
    const audit = await evaluatePlan(await cachedPlan(stack), profileOf(stack), [crdsKeptByClusterStack, environmentStaysInItsNamespaces, chartsInstallNoCrds]);
    for (const c of audit.controls) expect([c.name, c.status], JSON.stringify(c.evidence.filter((e) => !e.ok))).not.toEqual([c.name, "fail"]);
  });
});
