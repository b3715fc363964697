import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { AlertRouting, AlertRules, alertRuleGroups } from "../components/alerts";
import { anomalyRuleGroups } from "../components/anomaly";
import { anomalyDashboard, dataLayerDashboard, GrafanaDashboards, sloDashboard } from "../components/dashboards";
import { MONGODB_EXPORTER_PORT } from "../components/mongodb";
import { checksum } from "../components/lifecycle";
import { MonitoringStack, ScrapeTargets, stackEndpoints, type ScrapeTarget, type StackEndpoint } from "../components/monitoring";
import { apiServerAccess } from "../components/network";
import { REDIS_PORTS } from "../components/redis";
import { STRIMZI_PORTS } from "../components/kafka";
import { TRAEFIK_POD_LABELS, TRAEFIK_PORTS } from "../components/traefik";
import { installsCharts, type EnvironmentContext } from "./context";
import { mongoMetricsPodLabels } from "./data/mongodb";
import { CERT_MANAGER_NAMESPACE } from "./edge";
import { ENVIRONMENT_LABEL } from "./naming";
import { anomalySignals } from "./anomaly";
import { APP_SITE_ROUTE, apiFamilies } from "./api";
import { thresholds } from "./slo";
import { charts } from "./versions";

/** A Service that Traefik routes to, and the pods and container port behind it (for its NetworkPolicy). */
export interface Backend {
  service: pulumi.Input<string>;
  port: number;
  targetPort?: number;
  podLabels?: Record<string, string>;
}

export interface Observability {
  backends: { grafana: Backend; prometheus: Backend; alertmanager: Backend };
  /** Secret in the app namespace with the Sentry DSN (key `SENTRY_DSN`). */
  sentrySecretName: pulumi.Input<string>;
  /** Checksum of the Sentry Secret's data: the app's pods roll when it changes. */
  sentrySecretChecksum: pulumi.Output<string>;
  outputs: Record<string, unknown>;
}

/** Every alert links to its runbook: `<RUNBOOK_BASE_URL>/<AlertName>`. */
export const RUNBOOK_BASE_URL = "https://runbooks.diaspomoney.fr";
export const SENTRY_SECRET = "sentry";
export const ALERTMANAGER_CONFIG = "diaspomoney-alerting";
export const ALERT_RECEIVERS_SECRET = "alertmanager-receivers";
/** Port of cert-manager's controller metrics (`tcp-prometheus-servicemonitor` on its Service). */
const CERT_MANAGER_METRICS_PORT = 9402;
/** The app's metrics: a second listener (METRICS_PORT), off the request path, that only Prometheus reaches. */
export const APP_METRICS = { podLabels: { "app.kubernetes.io/name": "web" }, containerPort: 9464, servicePort: "metrics", path: "/metrics" } as const;

/** Helm release of the monitoring stack: its ClusterRoles carry it, so it differs per environment. */
export function monitoringRelease(env: string): string {
  return `monitoring-${env}`;
}

/** What Prometheus scrapes: the app, Traefik, Kafka, Redis, MongoDB and cert-manager. */
export function scrapeTargets(ctx: Pick<EnvironmentContext, "names" | "spec">): ScrapeTarget[] {
  const { app, infra } = ctx.names;
  return [
    {
      name: "web",
      namespace: app,
      kind: "service",
      selector: { matchLabels: { ...APP_METRICS.podLabels } },
      port: APP_METRICS.servicePort,
      path: APP_METRICS.path,
      interval: "15s",
    },
    { name: "traefik", namespace: app, kind: "pod", selector: { matchLabels: { ...TRAEFIK_POD_LABELS } }, port: "metrics" },
    {
      // Brokers, controllers and Kafka Exporter all carry strimzi.io/kind=Kafka and name their metrics
      // port tcp-prometheus; the entity operator has no such port, so it is not selected.
      name: "kafka",
      namespace: infra,
      kind: "pod",
      selector: { matchLabels: { "strimzi.io/kind": "Kafka" } },
      port: "tcp-prometheus",
      relabelings: [{ action: "labelmap", regex: "__meta_kubernetes_pod_label_(strimzi_io_.+)", replacement: "$1" }],
    },
    { name: "redis", namespace: infra, kind: "pod", selector: { matchLabels: { redis_setup_type: "cluster" } }, port: "redis-exporter" },
    { name: "mongodb", namespace: infra, kind: "pod", selector: { matchLabels: mongoMetricsPodLabels(ctx.spec) }, port: "metrics" },
    {
      // The certificates' own namespace labels their series (honorLabels), not cert-manager's.
      name: "cert-manager",
      namespace: app,
      kind: "service",
      selectNamespaces: [CERT_MANAGER_NAMESPACE],
      selector: { matchLabels: { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" } },
      port: "tcp-prometheus-servicemonitor",
      honorLabels: true,
    },
  ];
}

/** The SMTP relay's port, from `alerting.smtpSmarthost` (`host:port`). */
function smtpPort(smarthost: string): number {
  return Number(smarthost.slice(smarthost.lastIndexOf(":") + 1));
}

/**
 * Prometheus, Alertmanager and Grafana in the app namespace, what they scrape, the alert rules
 * generated from infra/slo.ts, the routing of alerts to their receivers, the dashboards, and the
 * Sentry Secret of the app.
 */
export function buildObservability(ctx: EnvironmentContext): Observability {
  const { spec, config, names } = ctx;
  const release = monitoringRelease(spec.name);
  const opts = { parent: ctx.parent, provider: ctx.providers.kubernetes };
  const inNamespaces = { ...opts, dependsOn: [ctx.namespaces.app, ctx.namespaces.infra] };
  const labels = (name: string, component = "monitoring") => ctx.labels(name, component);
  const apiServer = apiServerAccess(config.kubernetes);

  const stack = new MonitoringStack(
    "monitoring",
    {
      namespace: names.app,
      watchedNamespaces: [names.infra],
      releaseName: release,
      chart: charts.kubePrometheusStack,
      installChart: installsCharts(ctx),
      awaitReadiness: config.kubernetes.awaitReadiness,
      labels,
      chartLabels: { [ENVIRONMENT_LABEL]: spec.name },
      externalLabels: { environment: spec.name },
      prometheus: {
        replicas: spec.monitoring.prometheusReplicas,
        retention: spec.monitoring.prometheusRetention,
        storage: spec.monitoring.prometheusStorage,
        externalUrl: `https://${spec.hosts.prometheus}`,
      },
      alertmanager: {
        replicas: spec.monitoring.alertmanagerReplicas,
        externalUrl: `https://${spec.hosts.alertmanager}`,
        configName: ALERTMANAGER_CONFIG,
      },
      grafana: { replicas: spec.monitoring.grafanaReplicas, rootUrl: `https://${spec.hosts.grafana}` },
      network: {
        uiClients: { ...TRAEFIK_POD_LABELS },
        scrapeTargets: [
          { podLabels: { ...APP_METRICS.podLabels }, ports: [APP_METRICS.containerPort] },
          { podLabels: { ...TRAEFIK_POD_LABELS }, ports: [TRAEFIK_PORTS.metrics] },
          { namespace: names.infra, podLabels: { "strimzi.io/kind": "Kafka" }, ports: [STRIMZI_PORTS.metrics] },
          { namespace: names.infra, podLabels: { redis_setup_type: "cluster" }, ports: [REDIS_PORTS.exporter] },
          { namespace: names.infra, podLabels: mongoMetricsPodLabels(spec), ports: [MONGODB_EXPORTER_PORT] },
          { namespace: CERT_MANAGER_NAMESPACE, podLabels: { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" }, ports: [CERT_MANAGER_METRICS_PORT] },
        ],
        apiServer,
        notificationPorts: [...new Set([443, smtpPort(config.alerting.smtpSmarthost)])],
      },
    },
    inNamespaces,
  );
  // Monitors, rules and the Alertmanager configuration are custom resources: their CRDs are the
  // cluster stack's; they wait for the operator that acts on them where this stack installs it.
  const afterChart = { ...opts, dependsOn: stack.chart ? [stack.chart] : [...inNamespaces.dependsOn] };

  new ScrapeTargets("scrape", { targets: scrapeTargets(ctx), labels }, afterChart);

  // The families' IngressRoutes are the app route's (infra/edge.ts): Traefik counts refusals per router.
  const anomalyOptions = { signals: anomalySignals, families: apiFamilies, appNamespace: names.app, siteRoute: APP_SITE_ROUTE };
  new AlertRules(
    "alert-rules",
    {
      namespace: names.app,
      groups: [
        ...alertRuleGroups({ thresholds, appNamespace: names.app, dataNamespace: names.infra, runbookBaseUrl: RUNBOOK_BASE_URL }),
        ...anomalyRuleGroups({ ...anomalyOptions, runbookBaseUrl: RUNBOOK_BASE_URL }),
      ],
      labels: (name) => labels(name, "alerting"),
    },
    afterChart,
  );

  const secrets = ctx.secrets;
  const required = (key: "slackWebhookUrl" | "pagerdutyRoutingKey" | "smtpPassword" | "sentryDsn") => {
    const value = secrets[key];
    if (value === undefined) throw new Error(`secret config ${key} is missing: the configuration check should have rejected the stack`);
    return value;
  };
  const a = config.alerting;
  new AlertRouting(
    "alert-routing",
    {
      namespace: names.app,
      configName: ALERTMANAGER_CONFIG,
      secretName: ALERT_RECEIVERS_SECRET,
      labels: (name) => labels(name, "alerting"),
      credentials: { slackWebhookUrl: required("slackWebhookUrl"), pagerdutyRoutingKey: required("pagerdutyRoutingKey"), smtpPassword: required("smtpPassword") },
      settings: {
        email: { to: a.emailTo, from: a.emailFrom, smarthost: a.smtpSmarthost },
        slackChannel: a.slackChannel,
        securityEmail: a.securityEmail,
        paymentsEmail: a.paymentsEmail,
        heartbeatEmail: a.heartbeatEmail,
      },
    },
    afterChart,
  );

  const dashboardOptions = { thresholds, appNamespace: names.app, dataNamespace: names.infra };
  new GrafanaDashboards(
    "dashboards",
    {
      namespace: ctx.namespaces.app.name,
      dashboards: [sloDashboard(dashboardOptions), dataLayerDashboard(dashboardOptions), anomalyDashboard(anomalyOptions)],
      labels: (name) => labels(name, "dashboards"),
    },
    opts,
  );

  const sentryData = { SENTRY_DSN: required("sentryDsn") };
  const sentry = new k8s.core.v1.Secret(
    SENTRY_SECRET,
    {
      metadata: { name: SENTRY_SECRET, namespace: names.app, labels: ctx.labels(SENTRY_SECRET, "app") },
      type: "Opaque",
      stringData: sentryData,
    },
    inNamespaces,
  );

  const ep = stackEndpoints(release);
  const backend = (e: StackEndpoint): Backend => ({ service: e.service, port: e.port, targetPort: e.targetPort, podLabels: e.podLabels });
  return {
    backends: { grafana: backend(ep.grafana), prometheus: backend(ep.prometheus), alertmanager: backend(ep.alertmanager) },
    sentrySecretName: sentry.metadata.name,
    sentrySecretChecksum: checksum(sentryData),
    outputs: {
      release,
      chartVersion: charts.kubePrometheusStack.version,
      chartInstalled: installsCharts(ctx),
      prometheus: { retention: spec.monitoring.prometheusRetention, storage: spec.monitoring.prometheusStorage, service: ep.prometheus.service },
      alertmanager: { replicas: spec.monitoring.alertmanagerReplicas, service: ep.alertmanager.service, config: ALERTMANAGER_CONFIG },
      grafana: { replicas: spec.monitoring.grafanaReplicas, service: ep.grafana.service, adminSecret: stack.grafanaAdminSecret.metadata.name },
      sentrySecret: SENTRY_SECRET,
      runbooks: RUNBOOK_BASE_URL,
    },
  };
}
