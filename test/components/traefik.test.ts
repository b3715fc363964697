import { describe, expect, it } from "vitest";
import {
  BASIC_AUTH_LOGIN_SECRET,
  BASIC_AUTH_SECRET,
  ingressRouteProblems,
  ingressRouteSpec,
  MIDDLEWARES,
  routeMiddlewares,
  securityHeaders,
  Traefik,
  TraefikRoutes,
  traefikChartValues,
  type SiteRoute,
  type TraefikArgs,
} from "../../components/traefik";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "test" });

function traefikArgs(overrides: Partial<TraefikArgs> = {}): TraefikArgs {
  return {
    namespace: "edge",
    labels,
    chart: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0" },
    replicas: 2,
    allowedSourceRanges: ["198.51.100.0/24", "2001:db8::/32"],
    metricsScraperLabels: { "app.kubernetes.io/name": "prometheus" },
    backends: [{ podLabels: { app: "web" }, port: 3000 }],
    ...overrides,
  };
}

const policy = { authenticatedHosts: ["prom.example.org"], authMiddleware: MIDDLEWARES.basicAuth };
const promRoute: SiteRoute = {
  name: "prom",
  host: "prom.example.org",
  tlsSecretName: "prom-tls",
  targets: [{ service: "prometheus", port: 9090, weight: 100 }],
  requireAuth: true,
};

describe("Traefik chart values", () => {
  const values = traefikChartValues(traefikArgs(), "edge") as any;

  it("redirects HTTP to HTTPS permanently and terminates TLS on websecure", () => {
    expect(values.ports.web.http.redirections.entryPoint).toEqual({ to: "websecure", scheme: "https", permanent: true });
    expect(values.ports.websecure.http.tls.enabled).toBe(true);
  });

  it("exposes no dashboard and no API", () => {
    expect(values.api.dashboard).toBe(false);
    expect(values.ingressRoute.dashboard.enabled).toBe(false);
    expect(JSON.stringify(values)).not.toMatch(/insecure"?:\s*true/);
  });

  it("watches only its namespace, with namespaced RBAC and no cluster-scoped IngressClass", () => {
    expect(values.providers.kubernetesCRD).toMatchObject({ enabled: true, namespaces: ["edge"], allowCrossNamespace: false });
    expect(values.providers.kubernetesIngress.enabled).toBe(false);
    expect(values.rbac).toEqual({ enabled: true, namespaced: true });
    expect(values.ingressClass.enabled).toBe(false);
  });

  it("runs pods that meet Pod Security 'restricted'", () => {
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(values.podSecurityContext.runAsUser).toBeGreaterThan(0);
    expect(values.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("logs requests as JSON without their headers, and serves Prometheus metrics per router on a dedicated Service", () => {
    expect(values.accessLog).toMatchObject({ enabled: true, format: "json", fields: { headers: { defaultMode: "drop" } } });
    expect(values.log.format).toBe("json");
    expect(values.metrics.prometheus).toEqual({ entryPoint: "metrics", addRoutersLabels: true, service: { enabled: true } });
  });

  it("leaves the LoadBalancer to the component and trusts forwarded headers only from the allowed ranges", () => {
    expect(values.service.enabled).toBe(false);
    expect(values.ports.websecure.forwardedHeaders).toEqual({ trustedIPs: ["198.51.100.0/24", "2001:db8::/32"], insecure: false });
  });

  it("keeps all pods but one available, and spreads them hard only when asked", () => {
    expect(values.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
    expect(values.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(values.topologySpreadConstraints).toBeUndefined();

    const strict = traefikChartValues(traefikArgs({ spread: "required", replicas: 3 }), "edge") as any;
    expect(strict.deployment.replicas).toBe(3);
    expect(strict.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
      labelSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
      topologyKey: "kubernetes.io/hostname",
    });
    // One pod per node: a surge pod would find no node, so the update replaces pods one by one.
    expect(strict.updateStrategy.rollingUpdate).toEqual({ maxUnavailable: 1, maxSurge: 0 });
    expect(strict.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway" });
  });
});

describe("security headers", () => {
  it("sends HSTS for a year with subdomains and preload, denies framing and sniffing", () => {
    expect(securityHeaders()).toMatchObject({
      stsSeconds: 31536000,
      stsIncludeSubdomains: true,
      stsPreload: true,
      frameDeny: true,
      contentTypeNosniff: true,
      referrerPolicy: "strict-origin-when-cross-origin",
    });
    expect(securityHeaders().permissionsPolicy).toMatch(/camera=\(\)/);
  });

  it("sets a CSP only when given one", () => {
    expect(securityHeaders()).not.toHaveProperty("contentSecurityPolicy");
    expect(securityHeaders({ contentSecurityPolicy: "default-src 'self'" }).contentSecurityPolicy).toBe("default-src 'self'");
  });
});

describe("route specs", () => {
  it("serve only websecure, with the host's TLS Secret, throttled, authenticated when asked, then headers", () => {
    const spec = ingressRouteSpec(promRoute);
    expect(spec.entryPoints).toEqual(["websecure"]);
    expect(spec.tls).toEqual({ secretName: "prom-tls" });
    expect(spec.routes[0].match).toBe("Host(`prom.example.org`)");
    expect(spec.routes[0].middlewares.map((m: { name: string }) => m.name)).toEqual(["rate-limit", "basic-auth", "prom-headers"]);
    expect(spec.routes[0].services).toEqual([{ name: "prometheus", port: 9090 }]);
    expect(routeMiddlewares({ ...promRoute, requireAuth: false })).toEqual(["rate-limit", "prom-headers"]);
  });

  it("go through a weighted TraefikService when there are several targets", () => {
    const spec = ingressRouteSpec({
      ...promRoute,
      name: "app",
      targets: [
        { service: "web", port: 3000, weight: 90 },
        { service: "web-canary", port: 3000, weight: 10 },
      ],
    });
    expect(spec.routes[0].services).toEqual([{ name: "app-weighted", kind: "TraefikService" }]);
  });
});

describe("the route policy check", () => {
  it("accepts a compliant route", () => {
    expect(ingressRouteProblems("prom", ingressRouteSpec(promRoute), policy)).toEqual([]);
  });

  it("detects a protected host served without the authentication middleware", () => {
    const spec = structuredClone(ingressRouteSpec(promRoute));
    spec.routes[0].middlewares = spec.routes[0].middlewares.filter((m: { name: string }) => m.name !== "basic-auth");
    expect(ingressRouteProblems("prom", spec, policy)).toEqual(["prom: routes[0] serves prom.example.org without the basic-auth middleware"]);
  });

  it("detects plain HTTP, a missing entry point list (every entry point) and a missing TLS Secret", () => {
    const onWeb = { ...ingressRouteSpec(promRoute), entryPoints: ["web", "websecure"] };
    expect(ingressRouteProblems("a", onWeb, policy)[0]).toMatch(/entryPoints must be exactly \["websecure"\]/);
    const { entryPoints: _ignored, ...everywhere } = ingressRouteSpec(promRoute);
    expect(ingressRouteProblems("b", everywhere, policy)[0]).toMatch(/a missing list means every entry point/);
    const noTls = { ...ingressRouteSpec(promRoute), tls: {} };
    expect(ingressRouteProblems("c", noTls, policy)).toEqual(["c: no tls.secretName"]);
  });

  it("ignores hosts the policy does not protect", () => {
    const open = ingressRouteSpec({ ...promRoute, host: "grafana.example.org", requireAuth: false });
    expect(ingressRouteProblems("g", open, policy)).toEqual([]);
  });
});

describe("the Traefik component", () => {
  it("creates the only LoadBalancer, restricted to the allowed ranges, keeping client addresses", async () => {
    const plan = await planProgram("dev", async () => (new Traefik("t", traefikArgs()), {}));
    const services = ofType(plan, "kubernetes:core/v1:Service");
    expect(services).toHaveLength(1);
    const spec = inputs(services[0]).spec;
    expect(spec).toMatchObject({
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      loadBalancerSourceRanges: ["198.51.100.0/24", "2001:db8::/32"],
      selector: { "app.kubernetes.io/name": "traefik" },
    });
    expect(spec.ports.map((p: { port: number; targetPort: string }) => [p.port, p.targetPort])).toEqual([
      [80, "web"],
      [443, "websecure"],
    ]);
  });

  it("sets TLS 1.3 minimum with strict SNI as the default option, and the default certificate when given", async () => {
    const plan = await planProgram("dev", async () => (new Traefik("t", traefikArgs({ defaultCertificateSecret: "site-tls" })), {}));
    expect(inputs(k8sObject(plan, "TLSOption", "default", "edge")).spec).toEqual({ minVersion: "VersionTLS13", sniStrict: true });
    expect(inputs(k8sObject(plan, "TLSStore", "default", "edge")).spec).toEqual({ defaultCertificate: { secretName: "site-tls" } });
    const without = await planProgram("dev", async () => (new Traefik("t", traefikArgs()), {}));
    expect(ofType(without, "kubernetes:traefik.io/v1alpha1:TLSStore")).toHaveLength(0);
  });

  it("never installs the chart's CRDs, and installs no chart where the cluster's owners run Traefik", async () => {
    const plan = await planProgram("dev", async () => {
      new Traefik("with", traefikArgs({ namespace: "a" }));
      new Traefik("without", traefikArgs({ installChart: false, namespace: "b" }));
      return {};
    });
    const charts = ofType(plan, "kubernetes:helm.sh/v4:Chart");
    expect(charts.map((c) => [c.name, inputs(c).skipCrds])).toEqual([["with", true]]);
    // The CRDs are the cluster stack's: the custom resources wait for nothing of this stack.
    expect(k8sObject(plan, "TLSOption", "default", "a").dependsOn).toEqual([]);
    expect(k8sObject(plan, "TLSOption", "default", "b").dependsOn).toEqual([]);
  });

  it("lets in web and websecure from anywhere, metrics from the scrapers only, and out only to backends and the API server", async () => {
    const plan = await planProgram(
      "dev",
      async () => (
        new Traefik(
          "t",
          traefikArgs({
            backends: [
              { podLabels: { app: "web" }, port: 3000 },
              { podLabels: { app: "web" }, port: 3000 },
              { podLabels: { app: "grafana" }, port: 3000 },
            ],
            apiServer: { cni: "calico", cidrs: ["203.0.113.10/32"] },
          }),
        ),
        {}
      ),
    );
    const spec = inputs(k8sObject(plan, "NetworkPolicy", "traefik", "edge")).spec;
    expect(spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "traefik" });
    expect(spec.ingress[0]).toEqual({ ports: [{ protocol: "TCP", port: 8000 }, { protocol: "TCP", port: 8443 }] });
    expect(spec.ingress[1]).toEqual({ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }], ports: [{ protocol: "TCP", port: 9100 }] });
    expect(spec.egress).toEqual([
      { to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ protocol: "TCP", port: 3000 }] },
      { to: [{ podSelector: { matchLabels: { app: "grafana" } } }], ports: [{ protocol: "TCP", port: 3000 }] },
      { to: [{ ipBlock: { cidr: "203.0.113.10/32" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] },
    ]);
  });
});

describe("the TraefikRoutes component", () => {
  const routes: SiteRoute[] = [
    {
      name: "app",
      host: "shop.example.org",
      tlsSecretName: "app-tls",
      targets: [
        { service: "web", port: 3000, weight: 80 },
        { service: "web-canary", port: 3000, weight: 20 },
      ],
      contentSecurityPolicy: "default-src 'self'",
    },
    promRoute,
  ];

  it("splits the app's traffic by weight and routes each host on websecure", async () => {
    const plan = await planProgram("dev", async () => (new TraefikRoutes("r", { namespace: "edge", labels, routes, rateLimit: { average: 50, burst: 100 } }), {}));
    expect(inputs(k8sObject(plan, "TraefikService", "app-weighted", "edge")).spec).toEqual({
      weighted: {
        services: [
          { name: "web", port: 3000, weight: 80 },
          { name: "web-canary", port: 3000, weight: 20 },
        ],
      },
    });
    for (const r of ofType(plan, "kubernetes:traefik.io/v1alpha1:IngressRoute")) {
      expect(ingressRouteProblems(r.name, inputs(r).spec, policy), r.name).toEqual([]);
    }
    expect(inputs(k8sObject(plan, "Middleware", "app-headers", "edge")).spec.headers.contentSecurityPolicy).toBe("default-src 'self'");
    expect(inputs(k8sObject(plan, "Middleware", "prom-headers", "edge")).spec.headers).not.toHaveProperty("contentSecurityPolicy");
  });

  it("rate-limits per visitor address forwarded by the CDN", async () => {
    const plan = await planProgram("dev", async () => (new TraefikRoutes("r", { namespace: "edge", labels, routes, rateLimit: { average: 50, burst: 100 } }), {}));
    expect(inputs(k8sObject(plan, "Middleware", "rate-limit", "edge")).spec.rateLimit).toEqual({
      average: 50,
      burst: 100,
      period: "1s",
      sourceCriterion: { requestHeaderName: "CF-Connecting-IP" },
    });
  });

  it("backs basic authentication with a bcrypt hash in a Secret, and exports where the login is, never the password", async () => {
    const plan = await planProgram("dev", async () => {
      const r = new TraefikRoutes("r", { namespace: "edge", labels, routes, rateLimit: { average: 50, burst: 100 } });
      return { credentials: r.credentials };
    });
    expect(inputs(k8sObject(plan, "Middleware", "basic-auth", "edge")).spec.basicAuth).toEqual({
      secret: BASIC_AUTH_SECRET,
      realm: "DiaspoMoney operations",
      removeHeader: true,
    });
    expect(inputs(k8sObject(plan, "Secret", BASIC_AUTH_SECRET, "edge")).stringData).toEqual({ users: "[secret]" });
    // The operators' login lives in a basic-auth Secret; what the component exports names it only.
    const login = inputs(k8sObject(plan, "Secret", BASIC_AUTH_LOGIN_SECRET, "edge"));
    expect(login.type).toBe("kubernetes.io/basic-auth");
    expect(login.stringData).toEqual({ username: "[secret]", password: "[secret]" });
    expect(plan.outputs).toEqual({ credentials: { username: "ops", secret: `edge/${BASIC_AUTH_LOGIN_SECRET}` } });
  });

  it("creates no authentication when no route asks for it", async () => {
    const plan = await planProgram(
      "dev",
      async () => (new TraefikRoutes("r", { namespace: "edge", labels, routes: [{ ...promRoute, requireAuth: false }], rateLimit: { average: 5, burst: 5 } }), {}),
    );
    expect(ofType(plan, "random:index/randomPassword:RandomPassword")).toHaveLength(0);
    expect(() => k8sObject(plan, "Middleware", "basic-auth", "edge")).toThrow(/found 0/);
  });
});
