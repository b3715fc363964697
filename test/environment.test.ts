import { describe, expect, it } from "vitest";
import { POD_SECURITY_VERSION } from "../components/namespaces";
import { cachedPlan, inputs, k8sObject, ofType, STACKS } from "./harness";

const expected = {
  dev: { replicas: 3, brokers: 3, members: 1 },
  rct: { replicas: 3, brokers: 3, members: 1 },
  prod: { replicas: 5, brokers: 5, members: 3 },
} as const;

describe.each(STACKS)("the %s environment", (stack) => {
  it("creates the app and infra namespaces with Pod Security Standards labels", async () => {
    const plan = await cachedPlan(stack);
    const app = inputs(k8sObject(plan, "Namespace", `diaspomoney-${stack}`)).metadata.labels;
    const infra = inputs(k8sObject(plan, "Namespace", `diaspomoney-${stack}-infra`)).metadata.labels;
    expect(app["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(app["pod-security.kubernetes.io/enforce-version"]).toBe(POD_SECURITY_VERSION);
    expect(infra["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    expect(infra["pod-security.kubernetes.io/warn"]).toBe("restricted");
    expect(infra["pod-security.kubernetes.io/audit"]).toBe("restricted");
  });

  it("closes both namespaces with a default-deny policy and opens only DNS", async () => {
    const plan = await cachedPlan(stack);
    for (const ns of [`diaspomoney-${stack}`, `diaspomoney-${stack}-infra`]) {
      const deny = inputs(k8sObject(plan, "NetworkPolicy", "default-deny", ns)).spec;
      expect(deny).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
      const dns = inputs(k8sObject(plan, "NetworkPolicy", "allow-dns-egress", ns)).spec;
      expect(dns.policyTypes).toEqual(["Egress"]);
      expect(dns.ingress).toBeUndefined();
      expect(dns.egress).toHaveLength(1);
      expect(dns.egress[0].ports).toEqual([
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ]);
      expect(dns.egress[0].to[0].podSelector.matchLabels).toEqual({ "k8s-app": "kube-dns" });
    }
  });

  it("sizes quotas and limit ranges from the stack file", async () => {
    const plan = await cachedPlan(stack);
    const { environments } = await import("../stacks");
    const spec = environments[stack];
    const quota = inputs(k8sObject(plan, "ResourceQuota", "budget", `diaspomoney-${stack}`)).spec.hard;
    expect(quota["requests.cpu"]).toBe(spec.namespaces.app.cpu.requests);
    expect(quota["limits.memory"]).toBe(spec.namespaces.app.memory.limits);
    expect(quota.pods).toBe(String(spec.namespaces.app.pods));
    const limits = inputs(k8sObject(plan, "LimitRange", "container-defaults", `diaspomoney-${stack}-infra`)).spec.limits[0];
    expect(limits.default).toEqual(spec.namespaces.infra.containerDefaults.limits);
  });

  it("lets the quota admit the LoadBalancer Services the plan declares, and nothing more", async () => {
    const plan = await cachedPlan(stack);
    const exposed = plan.resources.filter((r) => inputs(r).kind === "Service" && ["LoadBalancer", "NodePort"].includes(inputs(r).spec?.type));
    for (const ns of [`diaspomoney-${stack}`, `diaspomoney-${stack}-infra`]) {
      const hard = inputs(k8sObject(plan, "ResourceQuota", "budget", ns)).spec.hard;
      const here = exposed.filter((r) => inputs(r).metadata.namespace === ns);
      // Kubernetes charges one node port per port of a LoadBalancer Service.
      const ports = here.reduce((n, r) => n + inputs(r).spec.ports.length, 0);
      expect(Number(hard["services.loadbalancers"]), ns).toBe(here.filter((r) => inputs(r).spec.type === "LoadBalancer").length);
      expect(Number(hard["services.nodeports"]), ns).toBe(ports);
    }
  });

  it("puts the standard labels on every Kubernetes object", async () => {
    const plan = await cachedPlan(stack);
    const objects = plan.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh"));
    expect(objects.length).toBeGreaterThan(0);
    for (const r of objects) {
      const labels = inputs(r).metadata?.labels ?? {};
      expect(labels, r.urn).toMatchObject({
        "app.kubernetes.io/part-of": "diaspomoney",
        "app.kubernetes.io/managed-by": "pulumi",
        "diaspomoney.fr/environment": stack,
      });
      expect(labels["app.kubernetes.io/name"], r.urn).toBeTruthy();
    }
  });

  it("sends every Kubernetes resource through the stack's explicit provider", async () => {
    const plan = await cachedPlan(stack);
    const providers = ofType(plan, "pulumi:providers:kubernetes");
    expect(providers).toHaveLength(1);
    expect(inputs(providers[0])).toMatchObject({ context: expect.any(String), clusterIdentifier: expect.any(String) });
    const ref = `${providers[0].urn}::${providers[0].name}-id`;
    const k8sResources = plan.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    for (const r of k8sResources) expect(r.provider, r.urn).toBe(ref);
    for (const r of plan.resources.filter((r) => r.custom && r.type.startsWith("cloudflare:"))) {
      expect(r.provider, r.urn).toMatch(/pulumi:providers:cloudflare::cloudflare::/);
    }
  });

  it("exports namespaces, hosts and an environment summary with the stack's sizes", async () => {
    const plan = await cachedPlan(stack);
    const out = plan.outputs as any;
    expect(out.namespaces).toEqual({ app: `diaspomoney-${stack}`, infra: `diaspomoney-${stack}-infra` });
    expect(out.hosts.app).toBe({ dev: "dev.diaspomoney.fr", rct: "rct.diaspomoney.fr", prod: "app.diaspomoney.fr" }[stack]);
    expect(out.environment.appReplicas.min).toBe(expected[stack].replicas);
    expect(out.environment.kafkaBrokers).toBe(expected[stack].brokers);
    expect(out.environment.mongodbMembers).toBe(expected[stack].members);
    expect(JSON.stringify(out)).not.toMatch(/offline-placeholder/);
  });
});

describe("protection", () => {
  it("protects the namespaces in prod only", async () => {
    const prod = await cachedPlan("prod");
    expect(ofType(prod, "kubernetes:core/v1:Namespace").every((r) => r.protect)).toBe(true);
    const dev = await cachedPlan("dev");
    expect(ofType(dev, "kubernetes:core/v1:Namespace").some((r) => r.protect)).toBe(false);
  });
});
