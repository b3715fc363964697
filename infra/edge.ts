import type * as pulumi from "@pulumi/pulumi";
import { AcmeCertificates, CaCertificates, LETS_ENCRYPT } from "../components/cert-manager";
import { CloudflareZone, DnsEditToken, ProxiedRecords } from "../components/cloudflare";
import { apiServerAccess } from "../components/network";
import {
  ingressRouteProblems,
  MIDDLEWARES,
  TRAEFIK_METRICS,
  Traefik,
  TraefikRoutes,
  type RoutePolicy,
  type SiteRoute,
  type TraefikBackend,
} from "../components/traefik";
import { APP_SITE_ROUTE, apiFamilies } from "./api";
import type { Application } from "./application";
import type { EnvironmentSpec } from "./config/schema";
import { installsCharts, type EnvironmentContext } from "./context";
import { charts } from "./versions";

/**
 * Content-Security-Policy of the app (Next.js): own scripts only, inline styles (styled JSX and
 * next/font inject them), images from HTTPS and data URLs, and error reports to Sentry.
 */
export const APP_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "connect-src 'self' https://*.sentry.io",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

/** The app's internal endpoints (metrics), kept off the public route. */
export const APP_PRIVATE_PATH_PREFIX = "/api/monitoring";

/** Namespace of cert-manager, shared by the environments of a cluster. */
export const CERT_MANAGER_NAMESPACE = "cert-manager";

/** Labels of the app's pods (the app's contract): what Traefik may forward to. */
export const APP_POD_LABELS = { "app.kubernetes.io/name": "web" } as const;

/** Labels of the pods allowed to scrape Traefik's metrics. */
export const PROMETHEUS_POD_LABELS = { "app.kubernetes.io/name": "prometheus" } as const;

type MonitoringHost = "grafana" | "prometheus" | "alertmanager";

/**
 * A monitoring Service the edge routes to. Traefik forwards to the pods behind it, so the NetworkPolicy
 * needs the pods' labels and container port: they default to `app.kubernetes.io/name: <host key>` and
 * the Service port.
 */
export interface EdgeBackend {
  service: pulumi.Input<string>;
  port: number;
  targetPort?: number | string;
  podLabels?: Record<string, string>;
}

export interface EdgeDeps {
  app: Pick<Application, "routeTargets">;
  observability: { backends: Record<MonitoringHost, EdgeBackend> };
}

export interface Edge {
  outputs: Record<string, unknown>;
}

/** The edge's rule for routes: Prometheus and Alertmanager have no login of their own. */
export function edgeRoutePolicy(hosts: EnvironmentSpec["hosts"]): RoutePolicy {
  return { authenticatedHosts: [hosts.prometheus, hosts.alertmanager], authMiddleware: MIDDLEWARES.basicAuth };
}

/** Secret holding the certificate of a host, by host key. */
export function tlsSecretName(key: string): string {
  return `${key}-tls`;
}

/** The environment's routes: the app (whatever its release strategy) and the three monitoring UIs. */
export function siteRoutes(spec: EnvironmentSpec, deps: EdgeDeps): SiteRoute[] {
  const monitoring = (key: MonitoringHost, requireAuth: boolean): SiteRoute => {
    const b = deps.observability.backends[key];
    return { name: key, host: spec.hosts[key], tlsSecretName: tlsSecretName(key), targets: [{ service: b.service, port: b.port, weight: 100 }], requireAuth };
  };
  return [
    {
      name: APP_SITE_ROUTE,
      host: spec.hosts.app,
      tlsSecretName: tlsSecretName("app"),
      targets: deps.app.routeTargets,
      contentSecurityPolicy: APP_CONTENT_SECURITY_POLICY,
      // Prometheus scrapes the metrics inside the cluster; they describe traffic and must not be public.
      privatePathPrefixes: [APP_PRIVATE_PATH_PREFIX],
      // The seed's API families, each with its own edge policy (infra/api.ts); all of /api never cached.
      apiPathPrefix: "/api",
      apiFamilies,
    },
    // Grafana has its own login; its UI sets its own CSP (it needs inline scripts the app's forbids).
    // Its sessions live in each pod's own database: with several replicas, keep a visitor on one pod.
    { ...monitoring("grafana", false), stickySessions: spec.monitoring.grafanaReplicas > 1 },
    monitoring("prometheus", true),
    monitoring("alertmanager", true),
  ];
}

/** Pods and container ports Traefik forwards to. */
export function edgeBackends(deps: EdgeDeps): TraefikBackend[] {
  const app = deps.app.routeTargets.map((t) => ({ podLabels: { ...APP_POD_LABELS }, port: t.port }));
  const monitoring = (Object.entries(deps.observability.backends) as [MonitoringHost, EdgeBackend][]).map(([key, b]) => ({
    podLabels: b.podLabels ?? { "app.kubernetes.io/name": key },
    port: b.targetPort ?? b.port,
  }));
  return [...app, ...monitoring];
}

/**
 * `labels` without the keys charts set themselves: a duplicate key makes the rendered YAML invalid, and
 * cert-manager's NetworkPolicies select its pods by the chart's own `app.kubernetes.io/component`.
 */
export function chartLabels(labels: Record<string, string>): Record<string, string> {
  const owned = ["app.kubernetes.io/name", "app.kubernetes.io/managed-by", "app.kubernetes.io/component"];
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !owned.includes(k)));
}

/**
 * How the internet reaches the environment: Cloudflare (proxied records; in the stack that owns the zone,
 * its TLS settings, cache rules and WAF) → the Traefik LoadBalancer, open to Cloudflare's ranges only →
 * HTTPS routes with Let's Encrypt certificates issued by cert-manager over DNS-01.
 */
export function buildEdge(ctx: EnvironmentContext, deps: EdgeDeps): Edge {
  const { spec, config } = ctx;
  const k8sOpts = { parent: ctx.parent, provider: ctx.providers.kubernetes };
  const cfOpts = { parent: ctx.parent, provider: ctx.providers.cloudflare };
  const labels = (name: string) => ctx.labels(name, "edge");
  const namespace = ctx.namespaces.app.name;
  // The loader guarantees the block where the integration is on (infra/config/load.ts).
  const cloudflare = cfOpts.provider !== undefined ? config.cloudflare : undefined;
  const cloudflareManaged = cloudflare !== undefined;

  const hostKeys = Object.keys(spec.hosts) as (keyof EnvironmentSpec["hosts"])[];
  const requests = hostKeys.map((key) => ({ name: key, dnsNames: [spec.hosts[key]], secretName: tlsSecretName(key) }));
  let certificates: { secretNames: Record<string, string> };
  let issuer: string;
  let dnsToken: DnsEditToken | undefined;
  if (spec.edge.certificates === "cluster-ca") {
    // The environment's internal CA, from the cluster stack: for a cluster the internet cannot reach.
    const ca = ctx.cluster.internalCa[spec.name];
    if (!ca) throw new Error(`stack ${ctx.stack}: the cluster stack has no internal CA for environment ${spec.name}`);
    certificates = new CaCertificates("certificates", { namespace, labels, clusterIssuer: ca.issuer, certificates: requests }, k8sOpts);
    issuer = `ClusterIssuer/${ca.issuer}`;
  } else {
    // cert-manager's DNS-01 token: one scoped to the zone's DNS, made here; without the Cloudflare
    // integration, the configured token as given.
    dnsToken = cloudflare ? new DnsEditToken("dns01-token", { tokenName: `diaspomoney-${spec.name}-cert-manager-dns01`, zoneId: cloudflare.zoneId }, cfOpts) : undefined;
    const dns01Token = dnsToken?.value ?? ctx.secrets.cloudflareApiToken;
    if (!dns01Token) throw new Error(`stack ${ctx.stack}: cert-manager's DNS-01 solver needs the cloudflareApiToken secret`);
    certificates = new AcmeCertificates(
      "certificates",
      {
        namespace,
        labels,
        server: LETS_ENCRYPT[spec.edge.acmeEnvironment],
        email: config.alerting.securityEmail,
        cloudflareApiToken: dns01Token,
        dnsZones: [spec.domain],
        certificates: requests,
      },
      k8sOpts,
    );
    issuer = LETS_ENCRYPT[spec.edge.acmeEnvironment];
  }

  const traefik = new Traefik(
    "traefik",
    {
      namespace,
      labels,
      chart: charts.traefik,
      replicas: spec.edge.traefikReplicas,
      spread: spec.tier === "production" ? "required" : "preferred",
      allowedSourceRanges: config.cloudflare?.ipRanges ?? config.ingress?.allowedSourceRanges ?? [],
      installChart: installsCharts(ctx),
      awaitReadiness: config.kubernetes.awaitReadiness,
      defaultCertificateSecret: tlsSecretName("app"),
      metricsScraperLabels: { ...PROMETHEUS_POD_LABELS },
      backends: edgeBackends(deps),
      apiServer: apiServerAccess(config.kubernetes),
      chartLabels: chartLabels(ctx.labels("traefik", "edge")),
    },
    k8sOpts,
  );

  const routes = new TraefikRoutes(
    "routes",
    {
      namespace,
      labels,
      routes: siteRoutes(spec, deps),
      rateLimit: spec.edge.rateLimit,
    },
    k8sOpts,
  );
  const problems = Object.entries(routes.specs).flatMap(([name, s]) => ingressRouteProblems(name, s, edgeRoutePolicy(spec.hosts)));
  if (problems.length > 0) throw new Error(`Edge routes break the edge policy:\n  - ${problems.join("\n  - ")}`);

  if (cloudflare) {
    new ProxiedRecords(
    "dns",
    {
      zoneId: cloudflare.zoneId,
      hosts: spec.hosts,
      origin: traefik.address,
      comment: `diaspomoney-${spec.name}, managed by Pulumi`,
      retention: ctx.stateful,
    },
    cfOpts,
  );
  }
  const zoneManaged = cloudflare !== undefined && spec.features.manageZone;
  if (cloudflare && zoneManaged) {
    new CloudflareZone(
      "zone",
      { zoneId: cloudflare.zoneId, minTlsVersion: spec.edge.minTlsVersion, waf: spec.features.waf, apiFamilies, retention: ctx.stateful },
      cfOpts,
    );
  }

  return {
    outputs: {
      hosts: spec.hosts,
      loadBalancer: traefik.address,
      traefik: { chart: charts.traefik.version, replicas: spec.edge.traefikReplicas, metrics: TRAEFIK_METRICS },
      certificates: { issuer, secrets: certificates.secretNames, certManager: ctx.cluster.certManager.namespace },
      authenticatedHosts: edgeRoutePolicy(spec.hosts).authenticatedHosts,
      monitoringCredentials: routes.credentials,
      cloudflare: {
        managed: cloudflareManaged,
        proxiedHosts: cloudflareManaged ? Object.values(spec.hosts) : [],
        zoneManagedHere: zoneManaged,
        waf: zoneManaged && spec.features.waf,
        minTlsVersion: zoneManaged ? spec.edge.minTlsVersion : undefined,
        dnsTokenId: dnsToken?.tokenId,
      },
    },
  };
}
