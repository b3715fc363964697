import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { apiFamilyProblems, familyRouteName, type ApiFamily } from "./api-families";
import type { ContainerResources } from "./namespaces";
import { awaitAnnotations, helmChartAwait } from "./lifecycle";
import { apiServerEgress, ciliumClusterAccess, type ApiServerAccess } from "./network";

/** Labels of an object named `name`, by the caller's conventions. */
export type Labeller = (name: string) => Record<string, string>;

/** A Helm chart pinned by the caller. */
export interface PinnedChart {
  chart: string;
  repo: string;
  version: string;
}

/** The chart's release name: it makes the objects `traefik` and `traefik-metrics`. */
const RELEASE = "traefik";

/** Container ports of the proxy (the chart's defaults), which NetworkPolicies and the Service target. */
export const TRAEFIK_PORTS = { web: 8000, websecure: 8443, metrics: 9100 } as const;

/** Labels the chart puts on the proxy's pods, stable across releases. */
export const TRAEFIK_POD_LABELS = { "app.kubernetes.io/name": "traefik" } as const;

/** Where Prometheus scrapes the proxy: the chart's dedicated metrics Service. */
export const TRAEFIK_METRICS = { service: `${RELEASE}-metrics`, portName: "metrics", port: TRAEFIK_PORTS.metrics, path: "/metrics" } as const;

/** Pods the proxy may open connections to (it routes to endpoints, so container ports, not Service ports). */
export interface TraefikBackend {
  podLabels: Record<string, string>;
  port: number | string;
}

export interface TraefikArgs {
  /** Namespace of the proxy; it also only watches routes, middlewares and TLS objects there. */
  namespace: pulumi.Input<string>;
  labels: Labeller;
  chart: PinnedChart;
  /** Proxy pods; a disruption budget keeps all but one available. */
  replicas: number;
  /**
   * "required": at most one pod per node (which makes rolling updates replace one pod at a time, with no
   * surge) and a best-effort spread across zones; "preferred" (default): anti-affinity when possible.
   */
  spread?: "required" | "preferred";
  /**
   * The only source ranges the LoadBalancer accepts (a CDN's edge ranges). Forwarded headers from these
   * addresses are trusted, so the backends see the visitor's address and scheme.
   */
  allowedSourceRanges: string[];
  /**
   * Install the chart. False where the cluster's owners install Traefik themselves (same chart,
   * release `traefik`) into this namespace: everything else here still applies. Default true. The
   * CRDs are never the chart's: the cluster stack owns them.
   */
  installChart?: boolean;
  /** Secret (kubernetes.io/tls) of the default certificate. Default: Traefik's generated one. */
  defaultCertificateSecret?: pulumi.Input<string>;
  /** Labels of the pods allowed to scrape the metrics port. */
  metricsScraperLabels: Record<string, string>;
  /** Everything the proxy forwards to. */
  backends: TraefikBackend[];
  /** API server endpoints (the proxy watches its custom resources). Default: any address on 443 and 6443. */
  apiServer?: ApiServerAccess;
  /** Default: 100m / 128Mi requested, 1 CPU / 512Mi limit. */
  resources?: ContainerResources;
  /** Extra labels on every object and pod the chart renders (never `app.kubernetes.io/name`, which the chart owns). */
  chartLabels?: Record<string, string>;
  /** Make `pulumi up` wait for the proxy's pods and the load balancer's address (see `awaitAnnotations`). Default true. */
  awaitReadiness?: boolean;
}

/** The proxy's container, unless the caller sizes it. */
export const TRAEFIK_RESOURCES: ContainerResources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "1", memory: "512Mi" },
};

/**
 * Chart values (traefik chart 41.x syntax: `ports.<ep>.http.*`, `log`/`accessLog`). The chart's own
 * Service is off: the component owns the LoadBalancer so that its address feeds DNS and its
 * restrictions are visible in the plan.
 */
export function traefikChartValues(args: TraefikArgs, namespace: pulumi.Input<string>): Record<string, unknown> {
  const trusted = { trustedIPs: args.allowedSourceRanges, insecure: false };
  const term = { labelSelector: { matchLabels: { ...TRAEFIK_POD_LABELS } }, topologyKey: "kubernetes.io/hostname" };
  const required = args.spread === "required";
  return {
    deployment: { replicas: args.replicas },
    ...(args.chartLabels ? { commonLabels: args.chartLabels } : {}),
    podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    ...(required ? { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } } : {}),
    affinity: {
      podAntiAffinity: required
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
    },
    ...(required
      ? {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              // Single-zone clusters must still schedule: spread is a preference, one-per-node the rule.
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: { ...TRAEFIK_POD_LABELS } },
            },
          ],
        }
      : {}),
    // Cluster-scoped objects two environments sharing a cluster would fight over.
    ingressClass: { enabled: false },
    ingressRoute: { dashboard: { enabled: false }, healthcheck: { enabled: false } },
    // No dashboard, and the chart never passes --api.insecure: the API is not served at all.
    api: { dashboard: false },
    providers: {
      kubernetesCRD: { enabled: true, namespaces: [namespace], allowCrossNamespace: false, allowExternalNameServices: false },
      kubernetesIngress: { enabled: false },
    },
    rbac: { enabled: true, namespaced: true },
    ports: {
      web: {
        http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } },
        forwardedHeaders: trusted,
      },
      websecure: { http: { tls: { enabled: true } }, forwardedHeaders: trusted },
    },
    service: { enabled: false },
    // Router labels: requests per IngressRoute (one per API family), what edge-refusal anomalies count.
    metrics: { prometheus: { entryPoint: "metrics", addRoutersLabels: true, service: { enabled: true } } },
    log: { level: "INFO", format: "json" },
    // Request headers (cookies, Authorization) never reach the logs, except the CDN's request id, which
    // ties an access-log line to Cloudflare's own security events.
    accessLog: { enabled: true, format: "json", fields: { defaultMode: "keep", headers: { defaultMode: "drop", names: { "CF-Ray": "keep" } } } },
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    // Pod Security Standard "restricted": the chart's defaults lack only the seccomp profile.
    podSecurityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    },
    resources: args.resources ?? TRAEFIK_RESOURCES,
  };
}

/**
 * Traefik v3 as the environment's single entry point: the pinned chart (namespaced RBAC, watching only
 * its namespace, HTTP redirected permanently to HTTPS, JSON logs, Prometheus metrics, no dashboard), the
 * LoadBalancer Service restricted to the CDN's ranges, the pods' NetworkPolicy, and the TLS defaults
 * (TLS 1.3 minimum, strict SNI).
 */
export class Traefik extends pulumi.ComponentResource {
  readonly chart?: k8s.helm.v4.Chart;
  readonly service: k8s.core.v1.Service;
  /** The LoadBalancer's public address: an IP, or a host name on clouds that give one. */
  readonly address: pulumi.Output<{ ip?: string; hostname?: string }>;

  constructor(name: string, args: TraefikArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:Traefik", name, {}, opts);
    const ns = args.namespace;
    const meta = (objectName: string) => ({ name: objectName, namespace: ns, labels: args.labels(objectName) });

    this.chart =
      args.installChart === false
        ? undefined
        : new k8s.helm.v4.Chart(
            name,
            {
              name: RELEASE,
              chart: args.chart.chart,
              version: args.chart.version,
              repositoryOpts: { repo: args.chart.repo },
              namespace: ns,
              skipCrds: true,
              ...helmChartAwait(args.awaitReadiness),
              values: traefikChartValues(args, ns),
            },
            { parent: this },
          );
    // The CRDs of the custom resources below are the cluster stack's: they exist before this stack.
    const afterCrds = { parent: this };

    this.service = new k8s.core.v1.Service(
      `${name}-lb`,
      {
        // Waits for the cloud's load balancer to give the address DNS points at.
        metadata: { ...meta(RELEASE), annotations: awaitAnnotations("Service", args.awaitReadiness) },
        spec: {
          type: "LoadBalancer",
          // Keeps the visitor's (CDN's) address, so source ranges and NetworkPolicies see it.
          externalTrafficPolicy: "Local",
          loadBalancerSourceRanges: args.allowedSourceRanges,
          selector: { ...TRAEFIK_POD_LABELS },
          ports: [
            { name: "web", port: 80, targetPort: "web", protocol: "TCP" },
            { name: "websecure", port: 443, targetPort: "websecure", protocol: "TCP" },
          ],
        },
      },
      { parent: this },
    );
    this.address = this.service.status.apply((s) => {
      const ingress = s?.loadBalancer?.ingress?.[0];
      return { ip: ingress?.ip || undefined, hostname: ingress?.hostname || undefined };
    });

    const egress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = dedupeBackends(args.backends).map((b) => ({
      to: [{ podSelector: { matchLabels: b.podLabels } }],
      ports: [{ protocol: "TCP", port: b.port }],
    }));
    egress.push(...apiServerEgress(args.apiServer));
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(RELEASE),
        spec: {
          podSelector: { matchLabels: { ...TRAEFIK_POD_LABELS } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            // From anywhere: the LoadBalancer's source ranges are what restricts visitors to the CDN.
            { ports: [{ protocol: "TCP", port: TRAEFIK_PORTS.web }, { protocol: "TCP", port: TRAEFIK_PORTS.websecure }] },
            { from: [{ podSelector: { matchLabels: args.metricsScraperLabels } }], ports: [{ protocol: "TCP", port: TRAEFIK_PORTS.metrics }] },
          ],
          egress,
        },
      },
      { parent: this },
    );
    // Its Kubernetes CRD provider watches the API server.
    ciliumClusterAccess(
      `${name}-cluster-access`,
      { metadata: meta(`${RELEASE}-cluster-access`), podSelector: { matchLabels: { ...TRAEFIK_POD_LABELS } }, access: { apiServer: true }, api: args.apiServer },
      { parent: this },
    );

    // Named `default`, it applies to every router of this Traefik (one per namespace: see providers).
    new k8s.apiextensions.CustomResource(
      `${name}-tls-option`,
      {
        apiVersion: "traefik.io/v1alpha1",
        kind: "TLSOption",
        metadata: { name: "default", namespace: ns, labels: args.labels("tls-default") },
        spec: { minVersion: "VersionTLS13", sniStrict: true },
      },
      afterCrds,
    );
    if (args.defaultCertificateSecret !== undefined) {
      new k8s.apiextensions.CustomResource(
        `${name}-tls-store`,
        {
          apiVersion: "traefik.io/v1alpha1",
          kind: "TLSStore",
          metadata: { name: "default", namespace: ns, labels: args.labels("tls-default") },
          spec: { defaultCertificate: { secretName: args.defaultCertificateSecret } },
        },
        afterCrds,
      );
    }

    this.registerOutputs({
      chartVersion: args.chart.version,
      service: this.service.metadata.name,
      address: this.address,
      metrics: TRAEFIK_METRICS,
      podLabels: TRAEFIK_POD_LABELS,
    });
  }
}

function dedupeBackends(backends: TraefikBackend[]): TraefikBackend[] {
  const seen = new Map<string, TraefikBackend>();
  for (const b of backends) seen.set(JSON.stringify([b.podLabels, b.port]), b);
  return [...seen.values()];
}

// ---------------------------------------------------------------------------------------------------
// Routes

/** A Service the route forwards to, with its share of traffic when there are several. */
export interface RouteTarget {
  service: pulumi.Input<string>;
  port: number;
  weight: number;
}

export interface SiteRoute {
  /** Short name: prefix of the route's objects (`app`, `grafana`...). */
  name: string;
  host: string;
  /** Secret (kubernetes.io/tls) with the host's certificate. */
  tlsSecretName: pulumi.Input<string>;
  /** One target is routed to directly; several through a weighted TraefikService. */
  targets: RouteTarget[];
  /** Put HTTP basic authentication in front (for backends with no login of their own). */
  requireAuth?: boolean;
  /** Content-Security-Policy for the responses; without it, the backend's own (if any) is kept. */
  contentSecurityPolicy?: string;
  /**
   * Keep a visitor on one pod (a Secure, HttpOnly cookie): for backends whose sessions live in the pod,
   * such as Grafana without a shared database.
   */
  stickySessions?: boolean;
  /** Paths of the backend that must not be served to the internet (answered 404 by Traefik). */
  privatePathPrefixes?: string[];
  /**
   * The backend's API: everything under this prefix gets `Cache-Control: no-store` from Traefik,
   * whatever the backend says (API answers are per user). Default: no API route.
   */
  apiPathPrefix?: string;
  /**
   * API families (below `apiPathPrefix`) with an edge policy of their own: each gets its own
   * IngressRoute, `<name>-api-<family>`, with its rate limit, in-flight limit and body-size limit, and
   * access logs on, whatever the entry point's defaults become.
   */
  apiFamilies?: readonly ApiFamily[];
}

export interface TraefikRoutesArgs {
  namespace: pulumi.Input<string>;
  labels: Labeller;
  routes: SiteRoute[];
  /** Requests per second per visitor (`average`), with bursts up to `burst`. */
  rateLimit: { average: number; burst: number };
  /**
   * Request header holding the visitor's address, set by the CDN in front. Trustworthy only because
   * nothing else can reach the proxy. Default `CF-Connecting-IP` (Cloudflare).
   */
  clientIpHeader?: string;
  /** User of the basic authentication. Default `ops`. */
  authUser?: string;
  /** Permissions-Policy header. Default: no camera, microphone, geolocation or USB; payments same-origin. */
  permissionsPolicy?: string;
  /**
   * Resources every object waits for (the chart installing Traefik's CRDs). A component's own
   * `dependsOn` would not reach its children.
   */
  after?: pulumi.Resource[];
}

/** Names of the middlewares the routes use. */
export const MIDDLEWARES = {
  rateLimit: "rate-limit",
  basicAuth: "basic-auth",
  headers: (route: string) => `${route}-headers`,
  /** `Cache-Control: no-store` on every API answer. */
  noStore: "api-no-store",
  familyRateLimit: (route: string, family: string) => `${familyRouteName(route, { name: family })}-rate-limit`,
  familyInFlight: (route: string, family: string) => `${familyRouteName(route, { name: family })}-in-flight`,
  familyBodyLimit: (route: string, family: string) => `${familyRouteName(route, { name: family })}-body-limit`,
} as const;

/**
 * Priorities of the API routes: above any site route (whose default priority is its rule's length),
 * the families above the API as a whole.
 */
export const ROUTE_PRIORITY = { api: 10_000, family: 20_000 } as const;

/** Headers of the no-store middleware: neither a browser nor a shared cache keeps an API answer. */
export const NO_STORE_HEADERS = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

/** The Secret the basic-auth middleware reads (htpasswd lines under `users`). */
export const BASIC_AUTH_SECRET = "basic-auth-users";
/** The operators' login to the protected routes (type kubernetes.io/basic-auth): `kubectl get secret` with the right RBAC. */
export const BASIC_AUTH_LOGIN_SECRET = "basic-auth-login";

const DEFAULT_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), usb=(), payment=(self)";

/** Security response headers: HSTS one year with subdomains and preload, no framing, no sniffing. */
export function securityHeaders(opts: { contentSecurityPolicy?: string; permissionsPolicy?: string } = {}): Record<string, unknown> {
  return {
    stsSeconds: 31536000,
    stsIncludeSubdomains: true,
    stsPreload: true,
    // Sent on every response, whatever the scheme Traefik saw (TLS may end before it in future setups).
    forceSTSHeader: true,
    frameDeny: true,
    contentTypeNosniff: true,
    referrerPolicy: "strict-origin-when-cross-origin",
    permissionsPolicy: opts.permissionsPolicy ?? DEFAULT_PERMISSIONS_POLICY,
    ...(opts.contentSecurityPolicy ? { contentSecurityPolicy: opts.contentSecurityPolicy } : {}),
    // An empty value removes the header: no product or version disclosure.
    customResponseHeaders: { Server: "", "X-Powered-By": "" },
  };
}

/** Middlewares of a route, in the order they run: throttle first, then authenticate, then add headers. */
export function routeMiddlewares(route: SiteRoute): string[] {
  return [MIDDLEWARES.rateLimit, ...(route.requireAuth ? [MIDDLEWARES.basicAuth] : []), MIDDLEWARES.headers(route.name)];
}

/** Name of the weighted TraefikService of a route with several targets. */
export function weightedServiceName(route: SiteRoute): string {
  return `${route.name}-weighted`;
}

/** Where a route forwards: its one Service, or its weighted TraefikService. */
function routeServices(route: SiteRoute): Record<string, unknown>[] {
  return route.targets.length === 1
      ? [
          {
            name: route.targets[0].service,
            port: route.targets[0].port,
            ...(route.stickySessions ? { sticky: { cookie: { name: `${route.name}_affinity`, secure: true, httpOnly: true, sameSite: "strict" } } } : {}),
          },
        ]
      : [{ name: weightedServiceName(route), kind: "TraefikService" }];
}

/** The IngressRoute spec of a route: `websecure` only, TLS from the route's Secret. */
export function ingressRouteSpec(route: SiteRoute): Record<string, any> {
  const services = routeServices(route);
  return {
    entryPoints: ["websecure"],
    routes: [
      {
        kind: "Rule",
        match: [`Host(\`${route.host}\`)`, ...(route.privatePathPrefixes ?? []).map((p) => `!PathPrefix(\`${p}\`)`)].join(" && "),
        middlewares: routeMiddlewares(route).map((name) => ({ name })),
        services,
      },
    ],
    tls: { secretName: route.tlsSecretName },
  };
}

const notPrivate = (route: SiteRoute) => (route.privatePathPrefixes ?? []).map((p) => `!PathPrefix(\`${p}\`)`);

/** Middlewares of a family's route, in order: throttle, cap concurrency and body size, then headers. */
export function familyMiddlewares(route: SiteRoute, family: ApiFamily): string[] {
  return [
    family.edge.rateLimit ? MIDDLEWARES.familyRateLimit(route.name, family.name) : MIDDLEWARES.rateLimit,
    ...(family.edge.maxInFlightPerClient !== undefined ? [MIDDLEWARES.familyInFlight(route.name, family.name)] : []),
    ...(family.edge.maxRequestBodyBytes !== undefined ? [MIDDLEWARES.familyBodyLimit(route.name, family.name)] : []),
    MIDDLEWARES.headers(route.name),
    MIDDLEWARES.noStore,
  ];
}

/**
 * The API routes of a site route, by IngressRoute name: the API as a whole (`<name>-api`: no-store,
 * the site's rate limit) and one per family (`<name>-api-<family>`: the family's policy). Each matches
 * its own paths only, with a priority above the site route's, and keeps its access logs.
 */
export function apiRouteSpecs(route: SiteRoute): Record<string, Record<string, any>> {
  if (!route.apiPathPrefix) return {};
  const host = `Host(\`${route.host}\`)`;
  const spec = (match: string, priority: number, middlewares: string[]) => ({
    entryPoints: ["websecure"],
    routes: [
      {
        kind: "Rule",
        match,
        priority,
        middlewares: middlewares.map((name) => ({ name })),
        services: routeServices(route),
        // The families' access logs are audit evidence: on, whatever the entry point's default becomes.
        observability: { accessLogs: true, metrics: true },
      },
    ],
    tls: { secretName: route.tlsSecretName },
  });
  const specs: Record<string, Record<string, any>> = {
    [`${route.name}-api`]: spec(
      [host, `PathPrefix(\`${route.apiPathPrefix}\`)`, ...notPrivate(route)].join(" && "),
      ROUTE_PRIORITY.api,
      [MIDDLEWARES.rateLimit, MIDDLEWARES.headers(route.name), MIDDLEWARES.noStore],
    ),
  };
  for (const f of route.apiFamilies ?? []) {
    specs[familyRouteName(route.name, f)] = spec(
      `${host} && (Path(\`${f.pathPrefix}\`) || PathPrefix(\`${f.pathPrefix}/\`))`,
      ROUTE_PRIORITY.family,
      familyMiddlewares(route, f),
    );
  }
  return specs;
}

/** The middleware specs a site route's API families need, by middleware name. */
export function familyMiddlewareSpecs(route: SiteRoute, clientIpHeader: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const perClient = { requestHeaderName: clientIpHeader };
  for (const f of route.apiFamilies ?? []) {
    const e = f.edge;
    if (e.rateLimit) {
      out[MIDDLEWARES.familyRateLimit(route.name, f.name)] = { rateLimit: { average: e.rateLimit.average, period: e.rateLimit.period, burst: e.rateLimit.burst, sourceCriterion: perClient } };
    }
    if (e.maxInFlightPerClient !== undefined) {
      out[MIDDLEWARES.familyInFlight(route.name, f.name)] = { inFlightReq: { amount: e.maxInFlightPerClient, sourceCriterion: perClient } };
    }
    if (e.maxRequestBodyBytes !== undefined) {
      // Kept in memory up to the limit: the proxy's root filesystem is read-only.
      out[MIDDLEWARES.familyBodyLimit(route.name, f.name)] = { buffering: { maxRequestBodyBytes: e.maxRequestBodyBytes, memRequestBodyBytes: e.maxRequestBodyBytes } };
    }
  }
  return out;
}

/** What an edge policy demands of IngressRoutes. */
export interface RoutePolicy {
  /** Hosts that must never be served without the authentication middleware. */
  authenticatedHosts: string[];
  /** Name of that middleware. */
  authMiddleware: string;
}

/**
 * Everything wrong with an IngressRoute against the edge policy: served on another entry point than
 * `websecure` (or on all of them, when `entryPoints` is missing), without a TLS Secret, or a host that
 * must be authenticated reached without the authentication middleware. Empty when compliant.
 */
export function ingressRouteProblems(name: string, spec: any, policy: RoutePolicy): string[] {
  const problems: string[] = [];
  const eps: unknown = spec?.entryPoints;
  if (!Array.isArray(eps) || eps.length !== 1 || eps[0] !== "websecure") {
    problems.push(`${name}: entryPoints must be exactly ["websecure"] (got ${JSON.stringify(eps)}); a missing list means every entry point, plain HTTP included`);
  }
  if (!spec?.tls?.secretName) problems.push(`${name}: no tls.secretName`);
  for (const [i, rule] of (spec?.routes ?? []).entries()) {
    const hosts = [...String(rule?.match ?? "").matchAll(/Host\(`([^`]+)`\)/g)].map((m) => m[1]);
    const middlewares = (rule?.middlewares ?? []).map((m: { name?: string }) => m?.name);
    for (const host of hosts.filter((h) => policy.authenticatedHosts.includes(h))) {
      if (!middlewares.includes(policy.authMiddleware)) {
        problems.push(`${name}: routes[${i}] serves ${host} without the ${policy.authMiddleware} middleware`);
      }
    }
  }
  return problems;
}

/**
 * The environment's routes: one IngressRoute per host (HTTPS only), the middlewares they use (rate
 * limit per visitor, security headers, basic authentication backed by a generated password whose
 * bcrypt hash is the only form stored in the cluster), and weighted TraefikServices for releases that
 * split traffic.
 */
export class TraefikRoutes extends pulumi.ComponentResource {
  /** The IngressRoute specs, by route name, as created. */
  readonly specs: Record<string, Record<string, any>>;
  /**
   * Basic authentication, when a route requires it: the user, and the Secret (`namespace/name`, type
   * kubernetes.io/basic-auth) holding the generated password for the operators allowed to read it.
   * The password is never a stack output: a policy pack sees secrets unwrapped.
   */
  readonly credentials?: { username: string; secret: pulumi.Output<string> };
  /** The generated password (a Pulumi secret), for tests and for the Secret above. */
  readonly basicAuthPassword?: pulumi.Output<string>;

  constructor(name: string, args: TraefikRoutesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:TraefikRoutes", name, {}, opts);
    const empty = args.routes.filter((r) => r.targets.length === 0).map((r) => r.name);
    if (empty.length > 0) throw new Error(`routes without a target: ${empty.join(", ")}`);
    const familyProblems = args.routes.flatMap((r) => [
      ...apiFamilyProblems(r.apiFamilies ?? []).map((p) => `${r.name}: ${p}`),
      ...(r.apiFamilies?.length && !r.apiPathPrefix ? [`${r.name}: API families need apiPathPrefix`] : []),
    ]);
    if (familyProblems.length > 0) throw new Error(`Invalid API families:\n  - ${familyProblems.join("\n  - ")}`);
    const ns = args.namespace;
    const child = { parent: this, dependsOn: args.after ?? [] };
    const middleware = (objectName: string, spec: Record<string, unknown>) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${objectName}`,
        {
          apiVersion: "traefik.io/v1alpha1",
          kind: "Middleware",
          metadata: { name: objectName, namespace: ns, labels: args.labels(objectName) },
          spec,
        },
        child,
      );

    const clientIpHeader = args.clientIpHeader ?? "CF-Connecting-IP";
    middleware(MIDDLEWARES.rateLimit, {
      rateLimit: {
        average: args.rateLimit.average,
        burst: args.rateLimit.burst,
        period: "1s",
        // Behind a CDN every connection comes from its edge: key on the visitor's address it forwards.
        sourceCriterion: { requestHeaderName: clientIpHeader },
      },
    });
    if (args.routes.some((r) => r.apiPathPrefix)) {
      middleware(MIDDLEWARES.noStore, { headers: { customResponseHeaders: { ...NO_STORE_HEADERS } } });
    }
    for (const route of args.routes) {
      for (const [objectName, spec] of Object.entries(familyMiddlewareSpecs(route, clientIpHeader))) middleware(objectName, spec);
    }

    if (args.routes.some((r) => r.requireAuth)) {
      const username = args.authUser ?? "ops";
      const password = new random.RandomPassword(`${name}-basic-auth`, { length: 32, special: false }, child);
      new k8s.core.v1.Secret(
        `${name}-basic-auth-users`,
        {
          metadata: { name: BASIC_AUTH_SECRET, namespace: ns, labels: args.labels(BASIC_AUTH_SECRET) },
          type: "Opaque",
          stringData: { users: pulumi.secret(pulumi.interpolate`${username}:${password.bcryptHash}`) },
        },
        child,
      );
      middleware(MIDDLEWARES.basicAuth, {
        basicAuth: { secret: BASIC_AUTH_SECRET, realm: "DiaspoMoney operations", removeHeader: true },
      });
      new k8s.core.v1.Secret(
        `${name}-basic-auth-login`,
        {
          metadata: { name: BASIC_AUTH_LOGIN_SECRET, namespace: ns, labels: args.labels(BASIC_AUTH_LOGIN_SECRET) },
          type: "kubernetes.io/basic-auth",
          stringData: { username, password: pulumi.secret(password.result) },
        },
        child,
      );
      this.basicAuthPassword = pulumi.secret(password.result);
      this.credentials = { username, secret: pulumi.interpolate`${ns}/${BASIC_AUTH_LOGIN_SECRET}` };
    }

    this.specs = {};
    for (const route of args.routes) {
      middleware(
        MIDDLEWARES.headers(route.name),
        { headers: securityHeaders({ contentSecurityPolicy: route.contentSecurityPolicy, permissionsPolicy: args.permissionsPolicy }) },
      );
      if (route.targets.length > 1) {
        new k8s.apiextensions.CustomResource(
          `${name}-${weightedServiceName(route)}`,
          {
            apiVersion: "traefik.io/v1alpha1",
            kind: "TraefikService",
            metadata: { name: weightedServiceName(route), namespace: ns, labels: args.labels(weightedServiceName(route)) },
            spec: { weighted: { services: route.targets.map((t) => ({ name: t.service, port: t.port, weight: t.weight })) } },
          },
          child,
        );
      }
      for (const [routeName, spec] of Object.entries({ [route.name]: ingressRouteSpec(route), ...apiRouteSpecs(route) })) {
        this.specs[routeName] = spec;
        new k8s.apiextensions.CustomResource(
          `${name}-${routeName}`,
          {
            apiVersion: "traefik.io/v1alpha1",
            kind: "IngressRoute",
            metadata: { name: routeName, namespace: ns, labels: args.labels(routeName) },
            spec,
          },
          child,
        );
      }
    }

    this.registerOutputs({
      hosts: Object.fromEntries(args.routes.map((r) => [r.name, r.host])),
      apiFamilies: Object.fromEntries(args.routes.filter((r) => r.apiFamilies?.length).map((r) => [r.name, r.apiFamilies!.map((f) => f.pathPrefix)])),
      authenticated: args.routes.filter((r) => r.requireAuth).map((r) => r.host),
      credentials: this.credentials,
    });
  }
}
