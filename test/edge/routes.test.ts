import { describe, expect, it } from "vitest";
import { ingressRouteProblems, ingressRouteSpec, MIDDLEWARES, TRAEFIK_PORTS } from "../../components/traefik";
import { environmentSpecSchema } from "../../infra/config/schema";
import { APP_CONTENT_SECURITY_POLICY, edgeBackends, edgeRoutePolicy, siteRoutes, tlsSecretName } from "../../infra/edge";
import { environments } from "../../stacks";
import { cachedPlan, inputs, k8sObject, ofType, STACKS, type Plan } from "../harness";

const specOf = (stack: string) => environmentSpecSchema.parse(environments[stack]);
const ingressRoutes = (plan: Plan) => ofType(plan, "kubernetes:traefik.io/v1alpha1:IngressRoute");
const traefikChart = (plan: Plan) => ofType(plan, "kubernetes:helm.sh/v4:Chart").find((c) => inputs(c).chart === "traefik")!;

describe.each(STACKS)("the %s edge routes", (stack) => {
  const ns = `diaspomoney-${stack}`;
  const spec = specOf(stack);

  it("serve the app and the three monitoring hosts, each on websecure only", async () => {
    const plan = await cachedPlan(stack);
    const routes = ingressRoutes(plan);
    // The app's host also has its API routes (test/edge/api-policy.test.ts).
    const hosts = [...new Set(routes.map((r) => /Host\(`([^`]+)`\)/.exec(inputs(r).spec.routes[0].match)![1]))].sort();
    expect(hosts).toEqual(Object.values(spec.hosts).sort());
    for (const r of routes) {
      expect(inputs(r).spec.entryPoints, r.name).toEqual(["websecure"]);
      expect(inputs(r).spec.entryPoints, r.name).not.toContain("web");
    }
  });

  it("keep the app's metrics off the internet, and only them", async () => {
    const plan = await cachedPlan(stack);
    expect(inputs(k8sObject(plan, "IngressRoute", "app", ns)).spec.routes[0].match).toBe(`Host(\`${spec.hosts.app}\`) && !PathPrefix(\`/api/monitoring\`)`);
    expect(inputs(k8sObject(plan, "IngressRoute", "grafana", ns)).spec.routes[0].match).toBe(`Host(\`${spec.hosts.grafana}\`)`);
  });

  it("meet the edge policy: HTTPS only, TLS from a Secret, Prometheus and Alertmanager authenticated", async () => {
    const plan = await cachedPlan(stack);
    const policy = edgeRoutePolicy(spec.hosts);
    expect(policy.authenticatedHosts).toEqual([spec.hosts.prometheus, spec.hosts.alertmanager]);
    for (const r of ingressRoutes(plan)) expect(ingressRouteProblems(r.name, inputs(r).spec, policy), r.name).toEqual([]);
    for (const name of ["prometheus", "alertmanager"]) {
      const middlewares = inputs(k8sObject(plan, "IngressRoute", name, ns)).spec.routes[0].middlewares.map((m: { name: string }) => m.name);
      expect(middlewares).toContain(MIDDLEWARES.basicAuth);
    }
  });

  it("would be caught serving Prometheus without authentication", async () => {
    const plan = await cachedPlan(stack);
    const tampered = structuredClone(inputs(k8sObject(plan, "IngressRoute", "prometheus", ns)).spec);
    tampered.routes[0].middlewares = tampered.routes[0].middlewares.filter((m: { name: string }) => m.name !== MIDDLEWARES.basicAuth);
    expect(ingressRouteProblems("prometheus", tampered, edgeRoutePolicy(spec.hosts))).toEqual([
      `prometheus: routes[0] serves ${spec.hosts.prometheus} without the basic-auth middleware`,
    ]);
  });

  it("use the certificate cert-manager issues for each host", async () => {
    const plan = await cachedPlan(stack);
    for (const key of Object.keys(spec.hosts) as (keyof typeof spec.hosts)[]) {
      const cert = inputs(k8sObject(plan, "Certificate", key, ns)).spec;
      expect(cert.dnsNames).toEqual([spec.hosts[key]]);
      expect(cert.issuerRef).toEqual({ group: "cert-manager.io", kind: "Issuer", name: "letsencrypt" });
      expect(inputs(k8sObject(plan, "IngressRoute", key, ns)).spec.tls).toEqual({ secretName: cert.secretName });
      expect(cert.secretName).toBe(tlsSecretName(key));
    }
  });

  it("send HSTS, no-framing, nosniff and referrer headers everywhere, and the Next.js CSP on the app", async () => {
    const plan = await cachedPlan(stack);
    for (const key of Object.keys(spec.hosts)) {
      const headers = inputs(k8sObject(plan, "Middleware", MIDDLEWARES.headers(key), ns)).spec.headers;
      expect(headers, key).toMatchObject({
        stsSeconds: 31536000,
        stsIncludeSubdomains: true,
        stsPreload: true,
        frameDeny: true,
        contentTypeNosniff: true,
        referrerPolicy: "strict-origin-when-cross-origin",
      });
    }
    const csp = inputs(k8sObject(plan, "Middleware", MIDDLEWARES.headers("app"), ns)).spec.headers.contentSecurityPolicy;
    expect(csp).toBe(APP_CONTENT_SECURITY_POLICY);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self' https://*.sentry.io");
  });

  it("rate-limit every host with the stack's limits (auth with its own, stricter one)", async () => {
    const plan = await cachedPlan(stack);
    expect(inputs(k8sObject(plan, "Middleware", MIDDLEWARES.rateLimit, ns)).spec.rateLimit).toMatchObject(spec.edge.rateLimit);
    for (const r of ingressRoutes(plan)) {
      const expected = inputs(r).metadata.name === "app-api-auth" ? MIDDLEWARES.familyRateLimit("app", "auth") : MIDDLEWARES.rateLimit;
      expect(inputs(r).spec.routes[0].middlewares[0], r.name).toEqual({ name: expected });
    }
  });

  it("default to TLS 1.3 with strict SNI, and redirect plain HTTP permanently", async () => {
    const plan = await cachedPlan(stack);
    expect(inputs(k8sObject(plan, "TLSOption", "default", ns)).spec).toEqual({ minVersion: "VersionTLS13", sniStrict: true });
    expect(inputs(k8sObject(plan, "TLSStore", "default", ns)).spec.defaultCertificate).toEqual({ secretName: tlsSecretName("app") });
    const values = inputs(traefikChart(plan)).values;
    expect(values.ports.web.http.redirections.entryPoint).toEqual({ to: "websecure", scheme: "https", permanent: true });
    expect(values.providers.kubernetesCRD.namespaces).toEqual([ns]);
  });

  it("run the stack's Traefik replicas, spread hard across nodes in production only", async () => {
    const plan = await cachedPlan(stack);
    const values = inputs(traefikChart(plan)).values;
    expect(values.deployment.replicas).toBe(spec.edge.traefikReplicas);
    const antiAffinity = Object.keys(values.affinity.podAntiAffinity);
    expect(antiAffinity).toEqual([stack === "prod" ? "requiredDuringSchedulingIgnoredDuringExecution" : "preferredDuringSchedulingIgnoredDuringExecution"]);
  });

  it("let Traefik reach the app and the monitoring pods, and Prometheus reach its metrics", async () => {
    const plan = await cachedPlan(stack);
    const np = inputs(k8sObject(plan, "NetworkPolicy", "traefik", ns)).spec;
    const targets = np.egress.filter((e: any) => e.to?.[0]?.podSelector).map((e: any) => [e.to[0].podSelector.matchLabels["app.kubernetes.io/name"], e.ports[0].port]);
    expect(targets.map((t: [string, number]) => t[0]).sort()).toEqual(["alertmanager", "grafana", "prometheus", "web"]);
    expect(targets).toContainEqual(["web", 3000]);
    expect(np.ingress[1]).toEqual({
      from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
      ports: [{ protocol: "TCP", port: TRAEFIK_PORTS.metrics }],
    });
  });
});

describe("route assembly", () => {
  const spec = specOf("prod");
  const backends = {
    grafana: { service: "grafana", port: 80, targetPort: 3000 },
    prometheus: { service: "prometheus", port: 9090 },
    alertmanager: { service: "alertmanager", port: 9093, podLabels: { app: "am" } },
  };

  it("sends a canary release through a weighted service", () => {
    const targets = [
      { service: "web", port: 3000, weight: 95 },
      { service: "web-canary", port: 3000, weight: 5 },
    ];
    const app = siteRoutes(spec, { app: { routeTargets: targets }, observability: { backends } }).find((r) => r.name === "app")!;
    expect(app.targets).toEqual(targets);
    expect(ingressRouteSpec(app).routes[0].services).toEqual([{ name: "app-weighted", kind: "TraefikService" }]);
  });

  it("keeps Grafana visitors on one pod only when Grafana has several replicas", () => {
    const grafana = (replicas: number) =>
      siteRoutes({ ...spec, monitoring: { ...spec.monitoring, grafanaReplicas: replicas } }, { app: { routeTargets: [{ service: "web", port: 3000, weight: 100 }] }, observability: { backends } }).find(
        (r) => r.name === "grafana",
      )!;
    expect(ingressRouteSpec(grafana(2)).routes[0].services[0].sticky).toEqual({ cookie: { name: "grafana_affinity", secure: true, httpOnly: true, sameSite: "strict" } });
    expect(ingressRouteSpec(grafana(1)).routes[0].services[0].sticky).toBeUndefined();
  });

  it("sends the active colour of a blue/green release directly", () => {
    const app = siteRoutes(spec, { app: { routeTargets: [{ service: "web-green", port: 3000, weight: 100 }] }, observability: { backends } })[0];
    expect(ingressRouteSpec(app).routes[0].services).toEqual([{ name: "web-green", port: 3000 }]);
  });

  it("opens egress to the monitoring pods' container ports and labels when the backends give them", () => {
    const result = edgeBackends({ app: { routeTargets: [{ service: "web", port: 3000, weight: 100 }] }, observability: { backends } });
    expect(result).toEqual([
      { podLabels: { "app.kubernetes.io/name": "web" }, port: 3000 },
      { podLabels: { "app.kubernetes.io/name": "grafana" }, port: 3000 },
      { podLabels: { "app.kubernetes.io/name": "prometheus" }, port: 9090 },
      { podLabels: { app: "am" }, port: 9093 },
    ]);
  });
});
