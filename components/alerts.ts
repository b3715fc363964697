import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { familyPathPattern } from "./api-families";

/**
 * Alerting as code: Prometheus rules generated from a thresholds table, and the Alertmanager
 * routing tree with its receivers. The pure functions (rules, routing, receiver lookup) are
 * exported on their own so that tests and documentation use exactly what is deployed.
 */

export type Severity = "critical" | "warning";
/** Who an alert is for. `security` and `payments` have their own routes; everything else is platform. */
export type Team = "platform" | "security" | "payments";

export interface Threshold {
  /** In the unit Prometheus uses (seconds, ratio, requests/second): written as is in the PromQL. */
  value: number;
  unit: "seconds" | "ratio" | "requests/second";
  /** The line of the infrastructure schema the value comes from, when it comes from there. */
  seed?: string;
}

/** The service levels and alert thresholds every rule and dashboard is generated from. */
export interface SloThresholds {
  latencyP95: Threshold;
  errorRate: Threshold;
  /** Availability objective over a rolling window; its error budget is `1 - value`. */
  availability: Threshold & { windowDays: number };
  /** Tested capacity; the alert fires at `warnAtFraction` of it. */
  throughput: Threshold & { warnAtFraction: number };
  cpu: Threshold;
  memory: Threshold;
  disk: Threshold;
  networkLatency: Threshold;
  backupAge: Threshold;
  certificateExpiry: Threshold;
  authFailures: Threshold;
  paymentErrorRate: Threshold;
}

/**
 * Every metric a rule or a dashboard may name, with who exposes it and where that is documented.
 * A rule naming anything else fails the tests: an alert on a metric nobody exposes never fires.
 */
export const metricCatalog: Readonly<Record<string, { exposedBy: string; reference: string }>> = (() => {
  const entries: [string[], string, string][] = [
    [
      ["http_request_duration_seconds_bucket", "http_request_duration_seconds_count", "http_request_duration_seconds_sum"],
      "the app (prom-client Histogram `http_request_duration_seconds`, labels route, method, status)",
      "https://github.com/siimon/prom-client#histogram",
    ],
    [
      ["app_payment_attempts_total", "app_login_attempts_total"],
      "the app (prom-client Counters, label outcome from a closed set: app/src/lib/metrics.ts)",
      "https://prometheus.io/docs/practices/instrumentation/#counter-vs-gauge-summary-vs-histogram",
    ],
    [
      ["traefik_router_requests_total"],
      "Traefik v3 with metrics.prometheus.addRoutersLabels (labels router, code, method)",
      "https://doc.traefik.io/traefik/observability/metrics/overview/",
    ],
    [
      ["traefik_service_requests_total", "traefik_service_request_duration_seconds_bucket", "traefik_entrypoint_requests_total"],
      "Traefik v3 (metrics.prometheus)",
      "https://doc.traefik.io/traefik/observability/metrics/prometheus/",
    ],
    [
      ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"],
      "kubelet's cAdvisor endpoint (/metrics/cadvisor)",
      "https://github.com/google/cadvisor/blob/master/docs/storage/prometheus.md",
    ],
    [
      ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_capacity_bytes"],
      "kubelet (/metrics)",
      "https://kubernetes.io/docs/reference/instrumentation/metrics/",
    ],
    [
      ["kube_pod_container_resource_limits"],
      "kube-state-metrics",
      "https://github.com/kubernetes/kube-state-metrics/blob/main/docs/metrics/workload/pod-metrics.md",
    ],
    [
      [
        "kafka_server_replicamanager_underreplicatedpartitions",
        "kafka_controller_kafkacontroller_offlinepartitionscount",
        "kafka_controller_kafkacontroller_activecontrollercount",
        "kafka_server_brokertopicmetrics_messagesinpersec_total",
      ],
      "Strimzi Kafka brokers and controllers (metricsConfig, JMX exporter or Strimzi Metrics Reporter)",
      "https://github.com/strimzi/strimzi-kafka-operator/blob/main/packaging/examples/metrics/prometheus-install/prometheus-rules/prometheus-kafka-rules.yaml",
    ],
    [
      ["kafka_consumergroup_lag", "kafka_topic_partition_under_replicated_partition"],
      "Strimzi's Kafka Exporter (kafkaExporter)",
      "https://github.com/danielqsj/kafka_exporter#metrics",
    ],
    [
      ["redis_up", "redis_cluster_state", "redis_cluster_slots_fail", "redis_memory_used_bytes", "redis_connected_clients", "redis_commands_processed_total"],
      "redis_exporter (OT redis-operator `redisExporter` sidecar)",
      "https://github.com/oliver006/redis_exporter/blob/master/exporter/metrics.go",
    ],
    [
      ["mongodb_up", "mongodb_rs_members_health", "mongodb_rs_members_pingMs", "mongodb_ss_connections", "mongodb_ss_opcounters"],
      "Percona mongodb_exporter (sidecar; --collector.replicasetstatus, --collector.diagnosticdata)",
      "https://github.com/percona/mongodb_exporter/blob/main/REFERENCE.md",
    ],
    [
      ["mongodb_pbm_backup_last_transition_ts", "mongodb_pbm_cluster_backup_configured"],
      "Percona mongodb_exporter PBM collector (--collector.pbm)",
      "https://github.com/percona/mongodb_exporter/blob/main/exporter/pbm_collector.go",
    ],
    [
      ["certmanager_certificate_expiration_timestamp_seconds"],
      "cert-manager controller",
      "https://cert-manager.io/docs/devops-tips/prometheus-metrics/",
    ],
    [["up"], "Prometheus itself, for every scrape target", "https://prometheus.io/docs/concepts/jobs_instances/#automatically-generated-labels-and-time-series"],
  ];
  return Object.fromEntries(entries.flatMap(([names, exposedBy, reference]) => names.map((n) => [n, { exposedBy, reference }])));
})();

export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity; team: Team } & Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}
export interface RecordingRule {
  record: string;
  expr: string;
}
export type Rule = AlertingRule | RecordingRule;
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export function isAlertingRule(rule: Rule): rule is AlertingRule {
  return "alert" in rule;
}

export interface RuleOptions {
  thresholds: SloThresholds;
  /** Namespace of the app, Traefik and the monitoring stack. */
  appNamespace: string;
  /** Namespace of MongoDB, Redis and Kafka. */
  dataNamespace: string;
  /** Each alert links to `<runbookBaseUrl>/<AlertName>`. */
  runbookBaseUrl: string;
}

/** Multi-window, multi-burn-rate alerting (Google SRE workbook, ch. 5), for a 30-day objective. */
export const burnRateWindows = [
  { long: "1h", short: "5m", factor: 14.4, for: "2m", severity: "critical" },
  { long: "6h", short: "30m", factor: 6, for: "15m", severity: "critical" },
  { long: "1d", short: "2h", factor: 3, for: "1h", severity: "warning" },
  { long: "3d", short: "6h", factor: 1, for: "3h", severity: "warning" },
] as const satisfies readonly { long: string; short: string; factor: number; for: string; severity: Severity }[];

/** A number as it appears in PromQL (shortest round-trip form: 0.2, 0.001, 93600). */
function num(n: number): string {
  return String(n);
}

/**
 * The application's own routes: the `route` label is the route pattern the app serves a path with
 * (`/`, `/api/transfers`, `/users/[id]`); `unmatched` (404s), `rejected` (malformed requests refused
 * before Next.js), Next.js's internals and assets (`/_next…`, `/_global-error`) and the probes are not
 * user traffic. An anonymous client can create none of these series: it cannot move the SLO.
 */
export const USER_ROUTES = `route=~"/|/[^_].*",route!~"/api/health(/.*)?"`;

/** The app's user requests (see `USER_ROUTES`). */
function appRequests(ns: string, extra = ""): string {
  return `http_request_duration_seconds_count{namespace="${ns}",${USER_ROUTES}${extra}}`;
}

/** Prometheus rule groups for the whole environment, generated from `opts.thresholds`. */
export function alertRuleGroups(opts: RuleOptions): RuleGroup[] {
  const t = opts.thresholds;
  const app = opts.appNamespace;
  const data = opts.dataNamespace;
  const ours = `namespace=~"${app}|${data}"`;
  const budget = `(1 - ${num(t.availability.value)})`;
  // The payments API family, as the edge and the anomaly rules define it (components/api-families.ts).
  const payments = familyPathPattern([{ name: "payments" }]);
  const alert = (
    name: string,
    severity: Severity,
    team: Team,
    expr: string,
    forDuration: string,
    summary: string,
    description: string,
    extraLabels: Record<string, string> = {},
  ): AlertingRule => ({
    alert: name,
    expr,
    for: forDuration,
    labels: { severity, team, ...extraLabels },
    annotations: { summary, description, runbook_url: `${opts.runbookBaseUrl}/${name}` },
  });

  const windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
  const sloRecording: RuleGroup = {
    name: "slo-availability.recording",
    interval: "30s",
    rules: [
      ...windows.map(
        (w): RecordingRule => ({
          record: `slo:sli_error:ratio_rate${w}`,
          expr:
            `sum by (namespace) (rate(${appRequests(app, ',status=~"5.."')}[${w}]))\n` +
            `/\nsum by (namespace) (rate(${appRequests(app)}[${w}]))`,
        }),
      ),
      { record: "slo:http_requests:rate5m", expr: `sum by (namespace) (rate(${appRequests(app)}[5m]))` },
      { record: "slo:http_errors:rate5m", expr: `sum by (namespace) (rate(${appRequests(app, ',status=~"5.."')}[5m]))` },
      {
        record: `slo:sli_error:ratio_rate${t.availability.windowDays}d`,
        expr:
          `sum_over_time(slo:http_errors:rate5m[${t.availability.windowDays}d])\n` +
          `/\nsum_over_time(slo:http_requests:rate5m[${t.availability.windowDays}d])`,
      },
      {
        record: `slo:error_budget:remaining_ratio${t.availability.windowDays}d`,
        expr: `1 - slo:sli_error:ratio_rate${t.availability.windowDays}d / ${budget}`,
      },
    ],
  };

  const appAlerts: RuleGroup = {
    name: "app.alerts",
    rules: [
      ...burnRateWindows.map((w) =>
        alert(
          "AvailabilityErrorBudgetBurn",
          w.severity,
          "platform",
          `slo:sli_error:ratio_rate${w.long}{namespace="${app}"} > (${num(w.factor)} * ${budget})\n` +
            `and\nslo:sli_error:ratio_rate${w.short}{namespace="${app}"} > (${num(w.factor)} * ${budget})`,
          w.for,
          `Error budget of the ${num(t.availability.value * 100)} % availability objective is burning ${num(w.factor)}x too fast`,
          `Over the last ${w.long} (and still over ${w.short}) {{ $value | humanizePercentage }} of requests in {{ $labels.namespace }} failed; ` +
            `at this rate the ${t.availability.windowDays}-day error budget lasts ${num(Math.round((t.availability.windowDays * 24) / w.factor))} hours.`,
          { window: w.long },
        ),
      ),
      alert(
        "HighErrorRate",
        "critical",
        "platform",
        `sum by (namespace) (rate(${appRequests(app, ',status=~"5.."')}[5m]))\n/\nsum by (namespace) (rate(${appRequests(app)}[5m]))\n> ${num(t.errorRate.value)}`,
        "10m",
        `More than ${num(t.errorRate.value * 100)} % of requests fail`,
        "{{ $value | humanizePercentage }} of requests in {{ $labels.namespace }} returned 5xx over the last 5 minutes.",
      ),
      alert(
        "HighLatencyP95",
        "warning",
        "platform",
        `histogram_quantile(0.95, sum by (namespace, le) (rate(http_request_duration_seconds_bucket{namespace="${app}",${USER_ROUTES}}[5m])))\n> ${num(t.latencyP95.value)}`,
        "10m",
        `p95 response time above ${num(t.latencyP95.value * 1000)} ms`,
        "95 % of requests in {{ $labels.namespace }} completed within {{ $value | humanizeDuration }}, above the objective.",
      ),
      alert(
        "ThroughputNearCapacity",
        "warning",
        "platform",
        `sum by (namespace) (rate(${appRequests(app)}[5m])) / ${num(t.throughput.value)} > ${num(t.throughput.warnAtFraction)}`,
        "15m",
        `Traffic above ${num(t.throughput.warnAtFraction * 100)} % of the tested capacity (${num(t.throughput.value)} req/s)`,
        "{{ $labels.namespace }} serves {{ $value | humanizePercentage }} of the tested capacity: scale out or load-test a higher capacity.",
      ),
      alert(
        "PaymentErrorRateHigh",
        "critical",
        "payments",
        `sum by (namespace) (rate(${appRequests(app, `,route=~"${payments}",status=~"5.."`)}[5m]))\n/\n` +
          `sum by (namespace) (rate(${appRequests(app, `,route=~"${payments}"`)}[5m]))\n> ${num(t.paymentErrorRate.value)}`,
        "5m",
        `More than ${num(t.paymentErrorRate.value * 100)} % of payment requests fail`,
        "{{ $value | humanizePercentage }} of /api/payments requests in {{ $labels.namespace }} returned 5xx over the last 5 minutes.",
      ),
      alert(
        "AuthFailureBurst",
        "warning",
        "security",
        `sum by (namespace) (rate(${appRequests(app, ',status=~"401|403"')}[5m])) > ${num(t.authFailures.value)}`,
        "5m",
        `Burst of 401/403 responses (more than ${num(t.authFailures.value)}/s)`,
        "{{ $labels.namespace }} answers {{ $value | humanize }} requests/s with 401 or 403: possible credential stuffing or a broken client.",
      ),
    ],
  };

  const resourceAlerts: RuleGroup = {
    name: "resources.alerts",
    rules: [
      alert(
        "ContainerCpuHigh",
        "warning",
        "platform",
        `sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{${ours},container!=""}[5m]))\n/\n` +
          `sum by (namespace, pod, container) (kube_pod_container_resource_limits{${ours},resource="cpu"})\n> ${num(t.cpu.value)}`,
        "15m",
        `Container CPU above ${num(t.cpu.value * 100)} % of its limit`,
        "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) uses {{ $value | humanizePercentage }} of its CPU limit.",
      ),
      alert(
        "ContainerMemoryHigh",
        "warning",
        "platform",
        `sum by (namespace, pod, container) (container_memory_working_set_bytes{${ours},container!=""})\n/\n` +
          `sum by (namespace, pod, container) (kube_pod_container_resource_limits{${ours},resource="memory"})\n> ${num(t.memory.value)}`,
        "15m",
        `Container memory above ${num(t.memory.value * 100)} % of its limit`,
        "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) uses {{ $value | humanizePercentage }} of its memory limit; the OOM killer acts at 100 %.",
      ),
      alert(
        "VolumeSpaceLow",
        "warning",
        "platform",
        `sum by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${ours}})\n/\n` +
          `sum by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes{${ours}})\n> ${num(t.disk.value)}`,
        "10m",
        `Volume more than ${num(t.disk.value * 100)} % full`,
        "{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full.",
      ),
      alert(
        "NetworkLatencyHigh",
        "warning",
        "platform",
        `max by (namespace) (mongodb_rs_members_pingMs{namespace="${data}"}) / 1000 > ${num(t.networkLatency.value)}`,
        "10m",
        `Network round trip between database nodes above ${num(t.networkLatency.value * 1000)} ms`,
        "The slowest MongoDB replica-set heartbeat round trip in {{ $labels.namespace }} takes {{ $value | humanizeDuration }}: " +
          "the pod network or a node is degraded, and every replicated write waits for it.",
      ),
      alert(
        "CertificateExpiringSoon",
        "warning",
        "platform",
        `min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds{${ours}}) - time() < ${num(t.certificateExpiry.value)}`,
        "1h",
        `TLS certificate expires in less than ${num(t.certificateExpiry.value / 86400)} days`,
        "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }} and cert-manager has not renewed it.",
      ),
      alert(
        "ScrapeTargetDown",
        "warning",
        "platform",
        `up{${ours}} == 0`,
        "5m",
        "A metrics endpoint cannot be scraped",
        "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.job }}) has not answered scrapes for 5 minutes: the alerts that depend on it are blind.",
      ),
    ],
  };

  const dataAlerts: RuleGroup = {
    name: "data-layer.alerts",
    rules: [
      alert(
        "KafkaUnderReplicatedPartitions",
        "warning",
        "platform",
        `sum by (namespace) (kafka_server_replicamanager_underreplicatedpartitions{namespace="${data}"}) > 0`,
        "10m",
        "Kafka partitions are under-replicated",
        "{{ $value }} partitions in {{ $labels.namespace }} have fewer in-sync replicas than replicas: one more broker loss may stop writes.",
      ),
      alert(
        "KafkaOfflinePartitions",
        "critical",
        "platform",
        `sum by (namespace) (kafka_controller_kafkacontroller_offlinepartitionscount{namespace="${data}"}) > 0`,
        "1m",
        "Kafka partitions are offline",
        "{{ $value }} partitions in {{ $labels.namespace }} have no leader: producers and consumers of those partitions are stopped.",
      ),
      alert(
        "KafkaActiveControllerMissing",
        "critical",
        "platform",
        `sum by (namespace) (kafka_controller_kafkacontroller_activecontrollercount{namespace="${data}"}) != 1`,
        "5m",
        "Kafka has no single active controller",
        "{{ $labels.namespace }} reports {{ $value }} active KRaft controllers instead of exactly one.",
      ),
      alert(
        "RedisClusterStateNotOk",
        "critical",
        "platform",
        `min by (namespace) (redis_cluster_state{namespace="${data}"}) < 1`,
        "2m",
        "Redis Cluster state is not ok",
        "At least one Redis node in {{ $labels.namespace }} reports cluster_state:fail: some hash slots are not served.",
      ),
      alert(
        "RedisDown",
        "critical",
        "platform",
        `redis_up{namespace="${data}"} == 0`,
        "2m",
        "A Redis node is down",
        "The exporter of {{ $labels.namespace }}/{{ $labels.pod }} cannot reach its Redis node.",
      ),
      alert(
        "MongoDBReplicaSetMemberUnhealthy",
        "critical",
        "platform",
        `min by (namespace, member_idx) (mongodb_rs_members_health{namespace="${data}"}) < 1`,
        "2m",
        "A MongoDB replica set member is unhealthy",
        "Replica set member {{ $labels.member_idx }} in {{ $labels.namespace }} is reported unhealthy by its peers.",
      ),
      alert(
        "MongoDBDown",
        "critical",
        "platform",
        `mongodb_up{namespace="${data}"} == 0`,
        "2m",
        "A MongoDB node is down",
        "The exporter of {{ $labels.namespace }}/{{ $labels.pod }} cannot reach its mongod.",
      ),
      alert(
        "MongoDBBackupTooOld",
        "critical",
        "platform",
        `time() - max by (namespace) (mongodb_pbm_backup_last_transition_ts{namespace="${data}",status="done"}) > ${num(t.backupAge.value)}`,
        "10m",
        `Last successful MongoDB backup is older than ${num(t.backupAge.value / 3600)} hours`,
        "The newest completed backup in {{ $labels.namespace }} finished {{ $value | humanizeDuration }} ago: the daily backup did not run or failed.",
      ),
      alert(
        "MongoDBBackupNotConfigured",
        "critical",
        "platform",
        `max by (namespace) (mongodb_pbm_cluster_backup_configured{namespace="${data}"}) == 0\n` +
          `or\nabsent(mongodb_pbm_cluster_backup_configured{namespace="${data}"})`,
        "1h",
        "MongoDB backups are not configured or not observable",
        `Percona Backup for MongoDB reports no backup configuration in ${data}, or the exporter's PBM collector is off: the backup age alert cannot work.`,
      ),
    ],
  };

  return [sloRecording, appAlerts, resourceAlerts, dataAlerts];
}

// ---------------------------------------------------------------------------------------------
// Alertmanager routing

export interface Matcher {
  name: string;
  value: string;
  matchType: "=" | "!=" | "=~" | "!~";
}
export interface Route {
  receiver?: string;
  matchers?: Matcher[];
  continue?: boolean;
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  routes?: Route[];
}
export interface InhibitRule {
  sourceMatch: Matcher[];
  targetMatch: Matcher[];
  equal: string[];
}

/** Receiver names of the routing tree. */
export const receivers = {
  critical: "critical",
  warning: "warning",
  security: "security-team",
  payments: "payments-team",
  /** The dead man's switch: Watchdog's steady signal, whose silence is the alert (outside this Alertmanager). */
  heartbeat: "heartbeat",
  discard: "null",
} as const;

/** How often the heartbeat reaches the dead man's switch: its timeout must be a few times longer. */
export const HEARTBEAT_INTERVAL = "5m";

/**
 * The routing tree the seed describes: critical → email + Slack + PagerDuty, warning → email +
 * Slack, security and payments alerts to their teams as well. Team routes `continue`, so a team
 * alert also follows its severity. The chart's always-firing Watchdog goes to the heartbeat receiver
 * every {@link HEARTBEAT_INTERVAL}: an external dead man's switch pages when it stops, which is how a
 * dead Prometheus or Alertmanager gets noticed; InfoInhibitor goes nowhere.
 */
export function alertRoute(): Route {
  return {
    receiver: receivers.warning,
    groupBy: ["alertname", "namespace", "severity"],
    groupWait: "30s",
    groupInterval: "5m",
    repeatInterval: "4h",
    routes: [
      {
        receiver: receivers.heartbeat,
        matchers: [{ name: "alertname", value: "Watchdog", matchType: "=" }],
        groupWait: "0s",
        groupInterval: "1m",
        repeatInterval: HEARTBEAT_INTERVAL,
      },
      { receiver: receivers.discard, matchers: [{ name: "alertname", value: "InfoInhibitor", matchType: "=" }] },
      { receiver: receivers.security, matchers: [{ name: "team", value: "security", matchType: "=" }], continue: true },
      { receiver: receivers.payments, matchers: [{ name: "team", value: "payments", matchType: "=" }], continue: true },
      { receiver: receivers.critical, matchers: [{ name: "severity", value: "critical", matchType: "=" }], repeatInterval: "1h" },
      { receiver: receivers.warning, matchers: [{ name: "severity", value: "warning", matchType: "=" }] },
      // Severity "info"/"none" from the chart's default rules: dashboards, not notifications.
      { receiver: receivers.discard, matchers: [{ name: "severity", value: "info|none", matchType: "=~" }] },
    ],
  };
}

/** A warning is silenced while the critical alert of the same name fires in the same namespace. */
export function inhibitRules(): InhibitRule[] {
  return [
    {
      sourceMatch: [{ name: "severity", value: "critical", matchType: "=" }],
      targetMatch: [{ name: "severity", value: "warning", matchType: "=" }],
      equal: ["alertname", "namespace"],
    },
  ];
}

/** Alertmanager's matcher semantics: a missing label is the empty string, regexes are anchored. */
export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const v = labels[m.name] ?? "";
  switch (m.matchType) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
      return new RegExp(`^(?:${m.value})$`).test(v);
    case "!~":
      return !new RegExp(`^(?:${m.value})$`).test(v);
  }
}

/**
 * The receivers an alert with `labels` reaches, walking the tree as Alertmanager does: depth
 * first, children in order, stop at the first matching child unless it says `continue`, and fall
 * back to the node's own receiver when no child matches.
 */
export function receiversFor(route: Route, labels: Readonly<Record<string, string>>, inherited?: string): string[] {
  const receiver = route.receiver ?? inherited;
  const found: string[] = [];
  for (const child of route.routes ?? []) {
    if (!(child.matchers ?? []).every((m) => matches(m, labels))) continue;
    found.push(...receiversFor(child, labels, receiver));
    if (!child.continue) break;
  }
  if (found.length === 0 && receiver) found.push(receiver);
  return [...new Set(found)];
}

/** Whether `target` is muted by one of the `firing` alerts under `rules`. */
export function isInhibited(
  target: Readonly<Record<string, string>>,
  firing: readonly Readonly<Record<string, string>>[],
  rules: readonly InhibitRule[],
): boolean {
  return rules.some(
    (r) =>
      r.targetMatch.every((m) => matches(m, target)) &&
      firing.some((src) => src !== target && r.sourceMatch.every((m) => matches(m, src)) && r.equal.every((l) => (src[l] ?? "") === (target[l] ?? ""))),
  );
}

/** Keys of the receivers Secret. */
export const receiverSecretKeys = {
  slackWebhookUrl: "slack-webhook-url",
  pagerdutyRoutingKey: "pagerduty-routing-key",
  smtpPassword: "smtp-password",
  /** Optional: the dead man's switch's ping URL (healthchecks.io, Dead Man's Snitch, Opsgenie heartbeat...). */
  heartbeatUrl: "heartbeat-url",
} as const;

export interface ReceiverSettings {
  /** Name of the Secret holding the keys of {@link receiverSecretKeys}. */
  secretName: string;
  email: {
    /** On-call address for critical and warning alerts. */
    to: string;
    from: string;
    /** `host:port` of the SMTP relay (STARTTLS required). */
    smarthost: string;
    /** SMTP login. Default: `from`. */
    username?: string;
  };
  slackChannel: string;
  securityEmail: string;
  paymentsEmail: string;
  /**
   * Where the heartbeat goes: an address of a dead man's switch that accepts e-mail pings, and/or its
   * ping URL (`webhook: true`, the URL then under {@link receiverSecretKeys.heartbeatUrl} in the Secret).
   * Without either, the heartbeat receiver delivers nowhere.
   */
  heartbeat?: { email?: string; webhook?: boolean };
}

/** The `receivers` of the AlertmanagerConfig: every credential is a reference to the Secret. */
export function alertReceivers(s: ReceiverSettings) {
  const secretRef = (key: string) => ({ name: s.secretName, key });
  const email = (to: string) => ({
    to,
    from: s.email.from,
    smarthost: s.email.smarthost,
    authUsername: s.email.username ?? s.email.from,
    authPassword: secretRef(receiverSecretKeys.smtpPassword),
    requireTLS: true,
    sendResolved: true,
  });
  const slack = {
    apiURL: secretRef(receiverSecretKeys.slackWebhookUrl),
    channel: s.slackChannel,
    sendResolved: true,
    title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})',
    text: "{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
  };
  return [
    { name: receivers.critical, emailConfigs: [email(s.email.to)], slackConfigs: [slack], pagerdutyConfigs: [{ routingKey: secretRef(receiverSecretKeys.pagerdutyRoutingKey), severity: "critical", sendResolved: true }] },
    { name: receivers.warning, emailConfigs: [email(s.email.to)], slackConfigs: [slack] },
    { name: receivers.security, emailConfigs: [email(s.securityEmail)] },
    { name: receivers.payments, emailConfigs: [email(s.paymentsEmail)] },
    {
      name: receivers.heartbeat,
      ...(s.heartbeat?.email ? { emailConfigs: [{ ...email(s.heartbeat.email), sendResolved: false }] } : {}),
      ...(s.heartbeat?.webhook ? { webhookConfigs: [{ urlSecret: secretRef(receiverSecretKeys.heartbeatUrl), sendResolved: false }] } : {}),
    },
    { name: receivers.discard },
  ];
}

/** What each receiver delivers to, in words: used by tests and by the documentation. */
export function integrationsOf(receiversSpec: ReturnType<typeof alertReceivers>, name: string): string[] {
  const r = receiversSpec.find((x) => x.name === name);
  if (!r) throw new Error(`no receiver named ${name}`);
  return [
    ...(r.emailConfigs ?? []).map((e) => `email:${e.to}`),
    ...(r.slackConfigs ?? []).map((s) => `slack:${s.channel}`),
    ...(r.pagerdutyConfigs ?? []).map(() => "pagerduty"),
    ...((r as { webhookConfigs?: unknown[] }).webhookConfigs ?? []).map(() => "webhook"),
  ];
}

// ---------------------------------------------------------------------------------------------
// Components

export interface AlertRulesArgs {
  namespace: pulumi.Input<string>;
  groups: RuleGroup[];
  /** Labels of each PrometheusRule object, by object name. */
  labels: (name: string) => Record<string, string>;
}

/** One PrometheusRule per rule group, so that a broken group cannot take the others down. */
export class AlertRules extends pulumi.ComponentResource {
  readonly ruleNames: string[];

  constructor(name: string, args: AlertRulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:observability:AlertRules", name, {}, opts);
    // Children do not inherit the component's dependencies (the CRDs' chart): pass them on.
    const child = { parent: this, dependsOn: opts?.dependsOn };
    this.ruleNames = [];
    for (const group of args.groups) {
      const objectName = group.name.replace(/[^a-z0-9-]+/g, "-");
      this.ruleNames.push(objectName);
      new k8s.apiextensions.CustomResource(
        `${name}-${objectName}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PrometheusRule",
          metadata: { name: objectName, namespace: args.namespace, labels: args.labels(objectName) },
          spec: { groups: [group] },
        },
        child,
      );
    }
    const alerts = args.groups.flatMap((g) => g.rules).filter(isAlertingRule);
    this.registerOutputs({
      prometheusRules: this.ruleNames,
      alerts: [...new Set(alerts.map((a) => a.alert))].sort(),
      recordingRules: args.groups.flatMap((g) => g.rules).filter((r): r is RecordingRule => !isAlertingRule(r)).length,
    });
  }
}

export interface AlertRoutingArgs {
  namespace: pulumi.Input<string>;
  /** Name of the AlertmanagerConfig; the Alertmanager must reference it as its global configuration. */
  configName: string;
  /** Name of the Secret with the receivers' credentials. */
  secretName: string;
  labels: (name: string) => Record<string, string>;
  /** Credentials, as Pulumi secrets: they only ever reach the Secret. */
  credentials: {
    slackWebhookUrl: pulumi.Input<string>;
    pagerdutyRoutingKey: pulumi.Input<string>;
    smtpPassword: pulumi.Input<string>;
    /** The dead man's switch's ping URL; with it, the heartbeat receiver calls it. */
    heartbeatUrl?: pulumi.Input<string>;
  };
  settings: Omit<ReceiverSettings, "secretName" | "heartbeat"> & { heartbeatEmail?: string };
}

/**
 * The Alertmanager configuration as an AlertmanagerConfig resource: routing tree, inhibitions and
 * receivers whose URLs and keys are Secret references (never inline, never in Helm values).
 */
export class AlertRouting extends pulumi.ComponentResource {
  readonly secret: k8s.core.v1.Secret;
  readonly config: k8s.apiextensions.CustomResource;

  constructor(name: string, args: AlertRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:observability:AlertRouting", name, {}, opts);
    // Children do not inherit the component's dependencies (the CRDs' chart): pass them on.
    const child = { parent: this, dependsOn: opts?.dependsOn };
    const c = args.credentials;
    this.secret = new k8s.core.v1.Secret(
      `${name}-receivers`,
      {
        metadata: { name: args.secretName, namespace: args.namespace, labels: args.labels(args.secretName) },
        type: "Opaque",
        stringData: pulumi.secret({
          [receiverSecretKeys.slackWebhookUrl]: c.slackWebhookUrl,
          [receiverSecretKeys.pagerdutyRoutingKey]: c.pagerdutyRoutingKey,
          [receiverSecretKeys.smtpPassword]: c.smtpPassword,
          ...(c.heartbeatUrl !== undefined ? { [receiverSecretKeys.heartbeatUrl]: c.heartbeatUrl } : {}),
        }),
      },
      child,
    );
    const { heartbeatEmail, ...settings } = args.settings;
    const receiverSpec = alertReceivers({
      ...settings,
      secretName: args.secretName,
      heartbeat: { email: heartbeatEmail, webhook: c.heartbeatUrl !== undefined },
    });
    this.config = new k8s.apiextensions.CustomResource(
      `${name}-config`,
      {
        apiVersion: "monitoring.coreos.com/v1alpha1",
        kind: "AlertmanagerConfig",
        metadata: { name: args.configName, namespace: args.namespace, labels: args.labels(args.configName) },
        spec: { route: alertRoute(), inhibitRules: inhibitRules(), receivers: receiverSpec },
      },
      // After the Secret, and so after whatever the Secret waits for.
      { parent: this, dependsOn: [this.secret] },
    );
    this.registerOutputs({
      alertmanagerConfig: args.configName,
      secretName: args.secretName,
      receivers: Object.fromEntries(receiverSpec.map((r) => [r.name, integrationsOf(receiverSpec, r.name)])),
    });
  }
}
