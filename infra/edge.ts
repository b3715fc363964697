import type * as pulumi from "@pulumi/pulumi";
import { AcmeCertificates, CertManager, LETS_ENCRYPT } from "../components/cert-manager";
import { CloudflareZone, DnsEditToken, ProxiedRecords } from "../components/cloudflare";
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
import type { Application } from "./application";
import type { EnvironmentSpec } from "./config/schema";
import type { EnvironmentContext } from "./context";
import { PART_OF } from "./naming";
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
  /** cert-manager, from {@link deployCertManager}, where this stack installs it. */
  certManager?: CertManager;
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
      name: "app",
      host: spec.hosts.app,
      tlsSecretName: tlsSecretName("app"),
      targets: deps.app.routeTargets,
      contentSecurityPolicy: APP_CONTENT_SECURITY_POLICY,
      // Prometheus scrapes the metrics inside the cluster; they describe traffic and must not be public.
      privatePathPrefixes: [APP_PRIVATE_PATH_PREFIX],
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
 * cert-manager, once per cluster, where the stack installs the cluster's shared services. Installed
 * before the areas, as the data layer's internal CA is admitted by its webhook too.
 */
export function deployCertManager(ctx: EnvironmentContext): CertManager | undefined {
  const { config } = ctx;
  if (!config.kubernetes.installClusterServices) return undefined;
  return new CertManager(
    "cert-manager",
    {
      namespace: CERT_MANAGER_NAMESPACE,
      labels: (name) => ctx.labels(name, "cluster-services"),
      chart: charts.certManager,
      chartLabels: chartLabels(ctx.labels("cert-manager", "cluster-services")),
      namespaceRetention: ctx.stateful,
      apiServer: config.kubernetes.apiServerCidrs ? { cidrs: config.kubernetes.apiServerCidrs } : undefined,
      metricsScrapers: { namespaceLabels: { "app.kubernetes.io/part-of": PART_OF }, podLabels: { ...PROMETHEUS_POD_LABELS } },
    },
    { parent: ctx.parent, provider: ctx.providers.kubernetes },
  );
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
  const installClusterServices = config.kubernetes.installClusterServices;

  const certManager = deps.certManager;

  const dnsToken = new DnsEditToken(
    "dns01-token",
    { tokenName: `diaspomoney-${spec.name}-cert-manager-dns01`, zoneId: config.cloudflare.zoneId },
    cfOpts,
  );
  const hostKeys = Object.keys(spec.hosts) as (keyof EnvironmentSpec["hosts"])[];
  const certificates = new AcmeCertificates(
    "certificates",
    {
      namespace,
      labels,
      server: LETS_ENCRYPT[spec.edge.acmeEnvironment],
      email: config.alerting.securityEmail,
      cloudflareApiToken: dnsToken.value,
      dnsZones: [spec.domain],
      certificates: hostKeys.map((key) => ({ name: key, dnsNames: [spec.hosts[key]], secretName: tlsSecretName(key) })),
      // Issuers are admitted by cert-manager's webhook: wait for it where this stack installs it.
      after: certManager ? [certManager.chart] : [],
    },
    k8sOpts,
  );

  const traefik = new Traefik(
    "traefik",
    {
      namespace,
      labels,
      chart: charts.traefik,
      replicas: spec.edge.traefikReplicas,
      spread: spec.tier === "production" ? "required" : "preferred",
      allowedSourceRanges: config.cloudflare.ipRanges,
      installCrds: installClusterServices,
      defaultCertificateSecret: tlsSecretName("app"),
      metricsScraperLabels: { ...PROMETHEUS_POD_LABELS },
      backends: edgeBackends(deps),
      apiServer: config.kubernetes.apiServerCidrs ? { cidrs: config.kubernetes.apiServerCidrs } : undefined,
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
      // Where this stack installs Traefik's CRDs, the routes wait for them.
      after: installClusterServices ? [traefik.chart] : [],
    },
    k8sOpts,
  );
  const problems = Object.entries(routes.specs).flatMap(([name, s]) => ingressRouteProblems(name, s, edgeRoutePolicy(spec.hosts)));
  if (problems.length > 0) throw new Error(`Edge routes break the edge policy:\n  - ${problems.join("\n  - ")}`);

  new ProxiedRecords(
    "dns",
    {
      zoneId: config.cloudflare.zoneId,
      hosts: spec.hosts,
      origin: traefik.address,
      comment: `diaspomoney-${spec.name}, managed by Pulumi`,
      retention: ctx.stateful,
    },
    cfOpts,
  );
  const zoneManaged = spec.features.manageZone;
  if (zoneManaged) {
    new CloudflareZone(
      "zone",
      { zoneId: config.cloudflare.zoneId, minTlsVersion: spec.edge.minTlsVersion, waf: spec.features.waf, retention: ctx.stateful },
      cfOpts,
    );
  }

  return {
    outputs: {
      hosts: spec.hosts,
      loadBalancer: traefik.address,
      traefik: { chart: charts.traefik.version, replicas: spec.edge.traefikReplicas, metrics: TRAEFIK_METRICS },
      certificates: { issuer: LETS_ENCRYPT[spec.edge.acmeEnvironment], secrets: certificates.secretNames, certManagerInstalledHere: installClusterServices },
      authenticatedHosts: edgeRoutePolicy(spec.hosts).authenticatedHosts,
      monitoringCredentials: routes.credentials,
      cloudflare: {
        proxiedHosts: Object.values(spec.hosts),
        zoneManagedHere: zoneManaged,
        waf: zoneManaged && spec.features.waf,
        minTlsVersion: zoneManaged ? spec.edge.minTlsVersion : undefined,
        dnsTokenId: dnsToken.tokenId,
      },
    },
  };
}
