/**
 * The local stack (a laptop cluster) and its cluster stack, planned offline as `pulumi up` would run
 * them: the smallest shape of the platform, certificates from the cluster's internal CA, no Cloudflare
 * or Atlas, charts installed.
 */
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../infra/config/load";
import { environments } from "../stacks";
import { local } from "../stacks/local";
import { prod } from "../stacks/prod";
import { cachedPlan, configErrorOf, configObject, inputs, k8sObject, loaderInput, ofType } from "./harness";

const ns = "diaspomoney-local";

const problems = (fn: () => unknown) => configErrorOf(fn).problems;

describe("the local stack", () => {
  it("runs one app replica, one MongoDB member and the smallest Redis and Kafka the rules allow", async () => {
    const plan = await cachedPlan("local");
    expect(inputs(k8sObject(plan, "Deployment", "web", ns)).spec.replicas).toBe(1);
    expect(inputs(k8sObject(plan, "HorizontalPodAutoscaler", "web", ns)).spec.maxReplicas).toBe(2);
    const mongo = inputs(k8sObject(plan, "PerconaServerMongoDB", "mongodb", `${ns}-infra`));
    expect(mongo.spec.replsets.map((r: any) => r.size)).toEqual([1]);
    expect(inputs(k8sObject(plan, "RedisCluster", "redis", `${ns}-infra`)).spec.clusterSize).toBe(3);
    expect(ofType(plan, "kubernetes:kafka.strimzi.io/v1:KafkaNodePool").map((p) => inputs(p).spec.replicas)).toEqual([3]);
  });

  it("gets its certificates from the cluster stack's internal CA: no ACME issuer, no Cloudflare token", async () => {
    const plan = await cachedPlan("local");
    const hosts = Object.values(local.hosts) as string[];
    const certs = ofType(plan, "kubernetes:cert-manager.io/v1:Certificate").map(inputs).filter((c) => hosts.includes(c.spec?.dnsNames?.[0]));
    expect(certs.map((c) => c.spec.dnsNames[0]).sort()).toEqual(Object.values(local.hosts).sort());
    for (const c of certs) expect(c.spec.issuerRef).toEqual({ group: "cert-manager.io", kind: "ClusterIssuer", name: "diaspomoney-local-internal-ca" });
    expect(ofType(plan, "kubernetes:cert-manager.io/v1:Issuer").map(inputs).filter((i) => i.spec.acme)).toEqual([]);
    expect(() => k8sObject(plan, "Secret", "cloudflare-dns01-token", ns)).toThrow(/found 0/);
    expect((plan.outputs as any).edge.certificates.issuer).toBe("ClusterIssuer/diaspomoney-local-internal-ca");
    // The ClusterIssuer is the cluster stack's own.
    const cluster = await cachedPlan("cluster-local");
    expect((cluster.outputs as any).contract.internalCa.local.issuer).toBe("diaspomoney-local-internal-ca");
  });

  it("has nothing of Cloudflare or Atlas, and opens Traefik to the configured networks only", async () => {
    const plan = await cachedPlan("local");
    expect(plan.resources.filter((r) => r.type.startsWith("cloudflare:") || r.type.startsWith("mongodbatlas:"))).toEqual([]);
    const lb = ofType(plan, "kubernetes:core/v1:Service").map(inputs).find((s) => s.spec?.type === "LoadBalancer");
    expect(lb.spec.loadBalancerSourceRanges).toEqual(configObject("local", "ingress").allowedSourceRanges);
  });

  it("installs the controllers from their charts (a laptop reaches the chart repositories), and nothing scales its nodes", async () => {
    const plan = await cachedPlan("local");
    const charts = ofType(plan, "kubernetes:helm.sh/v4:Chart").map((c) => inputs(c).chart);
    expect(charts).toEqual(expect.arrayContaining(["traefik", "kube-prometheus-stack"]));
    const cluster = await cachedPlan("cluster-local");
    expect(ofType(cluster, "kubernetes:helm.sh/v4:Chart").map((c) => inputs(c).chart)).toEqual(["cert-manager"]);
    expect((cluster.outputs as any).cluster.autoscaler).toEqual({ mode: "none" });
  });
});

describe("configuration of certificates and ingress", () => {
  it("refuses the cluster CA in production: browsers trust no internal CA", () => {
    const spec = { ...prod, edge: { ...prod.edge, certificates: "cluster-ca" as const } };
    expect(problems(() => loadEnvironment("prod", spec, loaderInput("prod")))).toEqual([
      expect.objectContaining({ source: "stacks/prod.ts", key: "edge.certificates", value: '"cluster-ca"', expected: expect.stringContaining('"letsencrypt" in production') }),
    ]);
  });

  it("asks for the Cloudflare token only where Let's Encrypt or Cloudflare needs it", () => {
    expect(loadEnvironment("local", environments.local, loaderInput("local")).config.cloudflare).toBeUndefined();
    const letsencrypt = { ...local, edge: { ...local.edge, certificates: "letsencrypt" as const } };
    expect(problems(() => loadEnvironment("local", letsencrypt, loaderInput("local")))).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:cloudflareApiToken", value: "(not set)" }),
    ]);
  });

  it("needs the Cloudflare block where the integration is on, and some allowed networks either way", () => {
    expect(problems(() => loadEnvironment("local", environments.local, loaderInput("local", { integrations: { cloudflare: true, atlas: false } })))).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:cloudflare", expected: expect.stringContaining("integrations.cloudflare is on") }),
      expect.objectContaining({ key: "diaspomoney-platform:cloudflareApiToken", value: "(not set)" }),
    ]);
    expect(problems(() => loadEnvironment("local", environments.local, loaderInput("local", {}, ["ingress"])))).toEqual([
      expect.objectContaining({ key: "diaspomoney-platform:ingress.allowedSourceRanges", value: "(not set)" }),
    ]);
  });
});
