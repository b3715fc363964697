import { describe, expect, it } from "vitest";
import { DNS01_TOKEN_SECRET, LETS_ENCRYPT } from "../../components/cert-manager";
import { ConfigError, loadEnvironment, type RawStackConfig } from "../../infra/config/load";
import { environmentSpecSchema } from "../../infra/config/schema";
import { CERT_MANAGER_NAMESPACE } from "../../infra/edge";
import { charts } from "../../infra/versions";
import { environments } from "../../stacks";
import { cachedPlan, inputs, k8sObject, ofType, stackConfig, STACKS } from "../harness";

const specOf = (stack: string) => environmentSpecSchema.parse(environments[stack]);
const configOf = (stack: string, key: string) => JSON.parse(stackConfig(stack).values[`diaspomoney-platform:${key}`]);

describe.each(STACKS)("what %s exposes", (stack) => {
  it("has exactly one LoadBalancer: Traefik's, open to Cloudflare's ranges only", async () => {
    const plan = await cachedPlan(stack);
    const lbs = ofType(plan, "kubernetes:core/v1:Service").filter((s) => inputs(s).spec?.type === "LoadBalancer");
    expect(lbs.map((s) => inputs(s).metadata.name)).toEqual(["traefik"]);
    const spec = inputs(lbs[0]).spec;
    expect(spec.loadBalancerSourceRanges).toEqual(configOf(stack, "cloudflare").ipRanges);
    expect(spec.externalTrafficPolicy).toBe("Local");
    const nodePorts = ofType(plan, "kubernetes:core/v1:Service").filter((s) => inputs(s).spec?.type === "NodePort");
    expect(nodePorts).toEqual([]);
  });

  it("puts no secret in Helm values", async () => {
    const plan = await cachedPlan(stack);
    for (const chart of [...ofType(plan, "kubernetes:helm.sh/v4:Chart"), ...ofType(plan, "kubernetes:helm.sh/v3:Release")]) {
      const values = JSON.stringify(inputs(chart).values ?? {});
      expect(values, chart.urn).not.toContain("[secret]");
      expect(values, chart.urn).not.toMatch(/offline-placeholder|fake-cloudflare-token|\$2a\$/);
    }
  });

  it("keeps the DNS-01 token in a Kubernetes Secret next to the Issuer, never in clear", async () => {
    const plan = await cachedPlan(stack);
    const ns = `diaspomoney-${stack}`;
    expect(inputs(k8sObject(plan, "Secret", DNS01_TOKEN_SECRET.name, ns)).stringData).toEqual({ [DNS01_TOKEN_SECRET.key]: "[secret]" });
    const solver = inputs(k8sObject(plan, "Issuer", "letsencrypt", ns)).spec.acme.solvers[0];
    expect(solver).toEqual({
      selector: { dnsZones: ["diaspomoney.fr"] },
      dns01: { cloudflare: { apiTokenSecretRef: { name: DNS01_TOKEN_SECRET.name, key: DNS01_TOKEN_SECRET.key } } },
    });
    expect(JSON.stringify(plan)).not.toMatch(/fake-cloudflare-token|offline-placeholder/);
  });

  it("issues from the Let's Encrypt directory the stack asks for", async () => {
    const plan = await cachedPlan(stack);
    const acme = inputs(k8sObject(plan, "Issuer", "letsencrypt", `diaspomoney-${stack}`)).spec.acme;
    expect(acme.server).toBe(LETS_ENCRYPT[specOf(stack).edge.acmeEnvironment]);
    expect(acme.email).toBe(configOf(stack, "alerting").securityEmail);
  });

  it("installs Traefik without its CRDs, and neither cert-manager nor its namespace (the cluster stack's)", async () => {
    const plan = await cachedPlan(stack);
    const charts4 = Object.fromEntries(ofType(plan, "kubernetes:helm.sh/v4:Chart").map((c) => [inputs(c).chart, inputs(c)]));
    expect(charts4.traefik.skipCrds).toBe(true);
    expect(charts4.traefik.version).toBe(charts.traefik.version);
    // Only labels the chart does not set itself (a duplicate key breaks the rendered YAML).
    expect(charts4.traefik.values.commonLabels).toEqual({ "app.kubernetes.io/part-of": "diaspomoney", "diaspomoney.fr/environment": stack });
    expect(charts4["cert-manager"]).toBeUndefined();
    expect(ofType(plan, "kubernetes:core/v1:Namespace").map((n) => inputs(n).metadata.name).sort()).toEqual([`diaspomoney-${stack}`, `diaspomoney-${stack}-infra`]);
  });
});

describe("cert-manager in the cluster stacks", () => {
  it.each(["cluster-nonprod", "cluster-prod"])("%s installs it from its chart, CRDs applied before and never by the chart", async (stack) => {
    const plan = await cachedPlan(stack);
    const chart = ofType(plan, "kubernetes:helm.sh/v4:Chart").find((c) => inputs(c).chart === "cert-manager")!;
    expect(inputs(chart)).toMatchObject({ version: charts.certManager.version, namespace: CERT_MANAGER_NAMESPACE, skipCrds: true });
    expect(inputs(chart).values.crds).toEqual({ enabled: false });
    expect(inputs(chart).values.global.commonLabels).toEqual({ "app.kubernetes.io/part-of": "diaspomoney", "diaspomoney.fr/environment": stack });
    // Depending on a component is depending on each of its children: every CRD file.
    const crdsUrn = plan.resources.find((r) => r.type === "diaspomoney:cluster:PlatformCrds")!.urn;
    const crdFiles = plan.resources.filter((r) => r.parent === crdsUrn).map((r) => r.urn);
    expect(crdFiles.length).toBeGreaterThan(20);
    expect(chart.dependsOn).toEqual(expect.arrayContaining(crdFiles));
    const labels = inputs(k8sObject(plan, "Namespace", CERT_MANAGER_NAMESPACE)).metadata.labels;
    expect(labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });
});

describe("ordering", () => {
  it.each(STACKS)("gives %s's cert-manager and Traefik objects nothing of the stack to wait for: their CRDs exist before it", async (stack) => {
    const plan = await cachedPlan(stack);
    const chartUrn = (chart: string) => ofType(plan, "kubernetes:helm.sh/v4:Chart").find((c) => inputs(c).chart === chart)?.urn;
    const kinds = (group: string) => plan.resources.filter((r) => r.type.startsWith(`kubernetes:${group}/`));
    expect(kinds("cert-manager.io").length).toBeGreaterThan(0);
    expect(kinds("traefik.io").length).toBeGreaterThan(0);
    for (const r of kinds("traefik.io")) expect(r.dependsOn.includes(chartUrn("traefik")!), r.urn).toBe(false);
  });
});

describe("the WAF switch", () => {
  function raw(stack: string): RawStackConfig {
    const file = stackConfig(stack);
    const values: Record<string, string> = {};
    const secret = new Set<string>();
    for (const [k, v] of Object.entries(file.values)) {
      const short = k.replace(/^diaspomoney-platform:/, "");
      values[short] = v;
      if (file.secretKeys.includes(k)) secret.add(short);
    }
    return { values, secret };
  }

  it("is accepted with the zone, and refused without it (the WAF is a zone-wide ruleset)", () => {
    expect(loadEnvironment("prod", environments.prod, raw("prod")).spec.features.waf).toBe(true);
    const spec = structuredClone(environments.prod) as any;
    spec.features.manageZone = false;
    let error: unknown;
    try {
      loadEnvironment("prod", spec, raw("prod"));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toContainEqual(expect.objectContaining({ source: "stacks/prod.ts", key: "features.waf", value: "true" }));
  });
});
