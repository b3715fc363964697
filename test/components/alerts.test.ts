import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alertReceivers,
  alertRoute,
  alertRuleGroups,
  burnRateWindows,
  inhibitRules,
  integrationsOf,
  isAlertingRule,
  isInhibited,
  matches,
  metricCatalog,
  receivers,
  receiversFor,
  HEARTBEAT_INTERVAL,
  USER_ROUTES,
  type AlertingRule,
  type RecordingRule,
  type RuleOptions,
} from "../../components/alerts";
import { thresholds } from "../../infra/slo";
import { parsePromQL } from "../observability/promql";

const options: RuleOptions = { thresholds, appNamespace: "shop", dataNamespace: "shop-infra", runbookBaseUrl: "https://runbooks.example.org" };
const groups = alertRuleGroups(options);
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter(isAlertingRule);
const recordings = rules.filter((r): r is RecordingRule => !isAlertingRule(r));
const recorded = new Set(recordings.map((r) => r.record));

function alert(name: string): AlertingRule {
  const found = alerts.filter((a) => a.alert === name);
  if (found.length !== 1) throw new Error(`expected one ${name}, found ${found.length}`);
  return found[0];
}

/** Metrics an expression names that neither an exporter nor one of our recording rules provides. */
function unknownMetrics(expr: string): string[] {
  return parsePromQL(expr).metrics.filter((m) => !(m in metricCatalog) && !recorded.has(m));
}

describe("the PromQL checker", () => {
  it("accepts a valid expression and reports its metrics and comparison", () => {
    const p = parsePromQL('sum by (namespace) (rate(http_request_duration_seconds_count{status=~"5.."}[5m])) > 0.001');
    expect(p.errors).toEqual([]);
    expect(p.metrics).toEqual(["http_request_duration_seconds_count"]);
    expect(p.comparisons).toEqual([{ op: ">", number: "0.001" }]);
  });

  it.each([
    ["an unclosed parenthesis", "sum(rate(http_request_duration_seconds_count[5m])"],
    ["an unclosed range", "rate(http_request_duration_seconds_count[5m)"],
    ["a dangling operator", "sum(up) /"],
    ["an unknown function", "rat(up[5m])"],
  ])("rejects %s", (_what, expr) => {
    expect(parsePromQL(expr).errors.length).toBeGreaterThan(0);
  });

  it("flags a metric nobody exposes", () => {
    expect(unknownMetrics("sum(http_requests_total) > 1")).toEqual(["http_requests_total"]);
    expect(unknownMetrics("slo:sli_error:ratio_rate5m > 0.001")).toEqual([]);
  });
});

describe("the generated rules", () => {
  it("are valid PromQL, every one of them", () => {
    expect(rules.length).toBeGreaterThan(25);
    for (const r of rules) expect(parsePromQL(r.expr).errors, `${"alert" in r ? r.alert : r.record}: ${r.expr}`).toEqual([]);
  });

  it("only name metrics the app or an exporter exposes, or that a rule records", () => {
    for (const r of rules) expect(unknownMetrics(r.expr), r.expr).toEqual([]);
    // Recording rules are defined before use: each one reads raw metrics or an earlier recording.
    const seen = new Set<string>();
    for (const r of recordings) {
      for (const m of parsePromQL(r.expr).metrics) expect(m in metricCatalog || seen.has(m), `${r.record} reads ${m}`).toBe(true);
      seen.add(r.record);
    }
  });

  it("give every alert a severity, a team, a summary, a description and its runbook", () => {
    for (const a of alerts) {
      expect(["critical", "warning"]).toContain(a.labels.severity);
      expect(["platform", "security", "payments"]).toContain(a.labels.team);
      expect(a.annotations.summary.length).toBeGreaterThan(10);
      expect(a.annotations.description.length).toBeGreaterThan(10);
      expect(a.annotations.runbook_url).toBe(`https://runbooks.example.org/${a.alert}`);
      expect(a.for).toMatch(/^\d+[smh]$/);
    }
  });

  it("select the environment's namespaces only", () => {
    for (const a of alerts) expect(a.expr, a.alert).toMatch(/namespace(=|=~)"shop(\|shop-infra|-infra)?"|slo:/);
  });
});

describe("thresholds from infra/slo.ts", () => {
  it("hold the seed's values", () => {
    expect(thresholds.latencyP95.value).toBe(0.2);
    expect(thresholds.errorRate.value).toBe(0.001);
    expect(thresholds.availability.value).toBe(0.999);
    expect(thresholds.throughput.value).toBe(1000);
    expect(thresholds.cpu.value).toBe(0.7);
    expect(thresholds.memory.value).toBe(0.8);
    expect(thresholds.disk.value).toBe(0.85);
    expect(thresholds.networkLatency.value).toBe(0.05);
    expect(thresholds.backupAge.value).toBe(26 * 3600);
    expect(thresholds.certificateExpiry.value).toBe(14 * 86400);
  });

  it.each([
    ["HighLatencyP95", ">", "0.2"],
    ["HighErrorRate", ">", "0.001"],
    ["ThroughputNearCapacity", ">", "0.8"],
    ["ContainerCpuHigh", ">", "0.7"],
    ["ContainerMemoryHigh", ">", "0.8"],
    ["VolumeSpaceLow", ">", "0.85"],
    ["NetworkLatencyHigh", ">", "0.05"],
    ["MongoDBBackupTooOld", ">", "93600"],
    ["CertificateExpiringSoon", "<", "1209600"],
    ["AuthFailureBurst", ">", "5"],
    ["PaymentErrorRateHigh", ">", "0.001"],
  ])("%s compares with %s %s", (name, op, number) => {
    expect(parsePromQL(alert(name).expr).comparisons).toContainEqual({ op, number });
  });

  it("puts the tested capacity in the throughput alert", () => {
    expect(parsePromQL(alert("ThroughputNearCapacity").expr).numbers).toContain("1000");
  });

  it("follow the table: a changed value changes the rule", () => {
    const tighter = alertRuleGroups({ ...options, thresholds: { ...thresholds, cpu: { value: 0.65, unit: "ratio" }, latencyP95: { value: 0.15, unit: "seconds" } } });
    const find = (name: string) => tighter.flatMap((g) => g.rules).filter(isAlertingRule).find((a) => a.alert === name)!;
    expect(parsePromQL(find("ContainerCpuHigh").expr).comparisons).toContainEqual({ op: ">", number: "0.65" });
    expect(parsePromQL(find("HighLatencyP95").expr).comparisons).toContainEqual({ op: ">", number: "0.15" });
  });

  it("route security and payment alerts to their teams", () => {
    expect(alert("AuthFailureBurst").labels.team).toBe("security");
    expect(alert("AuthFailureBurst").expr).toContain('status=~"401|403"');
    expect(alert("PaymentErrorRateHigh").labels.team).toBe("payments");
    expect(alert("PaymentErrorRateHigh").expr).toContain('route=~"/api/(payments)(?:/.*)?"');
  });
});

describe("availability as multi-window multi-burn-rate alerts", () => {
  const burns = alerts.filter((a) => a.alert === "AvailabilityErrorBudgetBurn");

  it("page on fast burns and open tickets on slow ones", () => {
    expect(burns.map((b) => [b.labels.window, b.labels.severity])).toEqual([
      ["1h", "critical"],
      ["6h", "critical"],
      ["1d", "warning"],
      ["3d", "warning"],
    ]);
  });

  it("require both the long and the short window above the same burn rate of the 99.9 % budget", () => {
    for (const w of burnRateWindows) {
      const b = burns.find((x) => x.labels.window === w.long)!;
      expect(b.expr).toContain(`slo:sli_error:ratio_rate${w.long}{namespace="shop"} > (${w.factor} * (1 - 0.999))`);
      expect(b.expr).toContain(`slo:sli_error:ratio_rate${w.short}{namespace="shop"} > (${w.factor} * (1 - 0.999))`);
      expect(b.expr).toMatch(/\nand\n/);
    }
    expect(burnRateWindows.map((w) => [w.long, w.short, w.factor])).toEqual([
      ["1h", "5m", 14.4],
      ["6h", "30m", 6],
      ["1d", "2h", 3],
      ["3d", "6h", 1],
    ]);
  });

  it("record every window the alerts read, and the error budget left over 30 days", () => {
    for (const w of burnRateWindows) {
      expect(recorded).toContain(`slo:sli_error:ratio_rate${w.long}`);
      expect(recorded).toContain(`slo:sli_error:ratio_rate${w.short}`);
    }
    const budget = recordings.find((r) => r.record === "slo:error_budget:remaining_ratio30d")!;
    expect(budget.expr).toBe("1 - slo:sli_error:ratio_rate30d / (1 - 0.999)");
    expect(recordings.find((r) => r.record === "slo:sli_error:ratio_rate30d")!.expr).toContain("[30d]");
  });

  it("count the application's own routes only: no probe, 404, refused request or framework internal", () => {
    const slo = recordings.filter((x) => x.expr.includes("http_request_duration_seconds"));
    expect(slo.length).toBeGreaterThan(0);
    for (const r of slo) expect(r.expr).toContain(USER_ROUTES);
    // What the selector keeps and drops, as Prometheus matches it (anchored RE2).
    const matcher = (op: string) => new RegExp(`^(?:${new RegExp(`route${op}"([^"]+)"`).exec(USER_ROUTES)![1]})$`);
    const [keep, drop] = [matcher("=~"), matcher("!~")];
    const counted = (route: string) => keep.test(route) && !drop.test(route);
    expect(["/", "/api/transfers", "/users/[id]", "/api/healthy"].filter(counted)).toEqual(["/", "/api/transfers", "/users/[id]", "/api/healthy"]);
    expect(["unmatched", "rejected", "/_global-error", "/_not-found", "/_next/static", "/api/health", "/api/health/ready"].filter(counted)).toEqual([]);
  });
});

describe("Alertmanager routing", () => {
  const route = alertRoute();
  const spec = alertReceivers({
    secretName: "receivers",
    email: { to: "oncall@example.org", from: "am@example.org", smarthost: "smtp.example.org:587" },
    slackChannel: "#alerts",
    securityEmail: "security@example.org",
    paymentsEmail: "payments@example.org",
  });
  const reach = (labels: Record<string, string>) => receiversFor(route, labels).flatMap((r) => integrationsOf(spec, r));

  it("sends critical alerts by email, Slack and PagerDuty", () => {
    const labels = { alertname: "HighErrorRate", severity: "critical", team: "platform", namespace: "shop" };
    expect(receiversFor(route, labels)).toEqual([receivers.critical]);
    expect(reach(labels)).toEqual(["email:oncall@example.org", "slack:#alerts", "pagerduty"]);
  });

  it("sends warnings by email and Slack, never to PagerDuty", () => {
    const labels = { alertname: "HighLatencyP95", severity: "warning", team: "platform", namespace: "shop" };
    expect(receiversFor(route, labels)).toEqual([receivers.warning]);
    expect(reach(labels)).toEqual(["email:oncall@example.org", "slack:#alerts"]);
  });

  it("sends security alerts to the security team as well as by severity", () => {
    expect(receiversFor(route, { alertname: "AuthFailureBurst", severity: "warning", team: "security" })).toEqual([receivers.security, receivers.warning]);
    expect(reach({ alertname: "X", severity: "critical", team: "security" })).toEqual([
      "email:security@example.org",
      "email:oncall@example.org",
      "slack:#alerts",
      "pagerduty",
    ]);
  });

  it("sends payment alerts to the payments team as well as by severity", () => {
    expect(receiversFor(route, { alertname: "PaymentErrorRateHigh", severity: "critical", team: "payments" })).toEqual([receivers.payments, receivers.critical]);
    expect(reach({ alertname: "X", severity: "warning", team: "payments" })).toEqual(["email:payments@example.org", "email:oncall@example.org", "slack:#alerts"]);
  });

  it("sends the always-firing Watchdog to the heartbeat receiver only, every 5 minutes", () => {
    expect(receiversFor(route, { alertname: "Watchdog", severity: "none" })).toEqual([receivers.heartbeat]);
    const heartbeat = route.routes!.find((r) => r.receiver === receivers.heartbeat)!;
    expect(heartbeat).toMatchObject({ groupWait: "0s", repeatInterval: HEARTBEAT_INTERVAL });
    expect(HEARTBEAT_INTERVAL).toBe("5m");
    // A severity-looking Watchdog still goes nowhere else: the switch's silence is the page, not the alert.
    expect(receiversFor(route, { alertname: "Watchdog", severity: "critical" })).toEqual([receivers.heartbeat]);
    expect(receiversFor(route, { alertname: "WatchdogX", severity: "critical" })).toEqual([receivers.critical]);
  });

  it("delivers the heartbeat to the dead man's switch configured, by e-mail and/or its ping URL from the Secret", () => {
    expect(integrationsOf(spec, receivers.heartbeat)).toEqual([]);
    const withSwitch = alertReceivers({
      secretName: "receivers",
      email: { to: "oncall@example.org", from: "am@example.org", smarthost: "smtp.example.org:587" },
      slackChannel: "#alerts",
      securityEmail: "security@example.org",
      paymentsEmail: "payments@example.org",
      heartbeat: { email: "abc@hc-ping.example.org", webhook: true },
    });
    expect(integrationsOf(withSwitch, receivers.heartbeat)).toEqual(["email:abc@hc-ping.example.org", "webhook"]);
    const r = withSwitch.find((x) => x.name === receivers.heartbeat) as any;
    expect(r.webhookConfigs).toEqual([{ urlSecret: { name: "receivers", key: "heartbeat-url" }, sendResolved: false }]);
    expect(r.emailConfigs[0].sendResolved).toBe(false);
  });

  it("drops the chart's informational alerts", () => {
    expect(receiversFor(route, { alertname: "InfoInhibitor", severity: "none" })).toEqual([receivers.discard]);
    expect(receiversFor(route, { alertname: "KubeQuotaInfo", severity: "info" })).toEqual([receivers.discard]);
    expect(integrationsOf(spec, receivers.discard)).toEqual([]);
  });

  it("falls back to email and Slack for an alert without severity", () => {
    expect(receiversFor(route, { alertname: "Mystery" })).toEqual([receivers.warning]);
  });

  it("groups by alert name, namespace and severity", () => {
    expect(route.groupBy).toEqual(["alertname", "namespace", "severity"]);
  });

  it("reaches PagerDuty exactly for critical alerts, whatever the team (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("critical", "warning"),
        fc.constantFrom("platform", "security", "payments"),
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^(Watchdog|InfoInhibitor)$/.test(s)),
        (severity, team, alertname) => {
          const out = reach({ alertname, severity, team, namespace: "shop" });
          expect(out.includes("pagerduty")).toBe(severity === "critical");
          expect(out).toContain("slack:#alerts");
          expect(out).toContain("email:oncall@example.org");
          if (team === "security") expect(out).toContain("email:security@example.org");
          if (team === "payments") expect(out).toContain("email:payments@example.org");
        },
      ),
    );
  });

  it("keeps every credential out of the receivers: Secret references only", () => {
    const text = JSON.stringify(spec);
    expect(text).not.toMatch(/hooks\.slack\.com|https?:\/\//);
    const critical = spec.find((r) => r.name === receivers.critical)!;
    expect(critical.slackConfigs![0].apiURL).toEqual({ name: "receivers", key: "slack-webhook-url" });
    expect(critical.pagerdutyConfigs![0].routingKey).toEqual({ name: "receivers", key: "pagerduty-routing-key" });
    expect(critical.emailConfigs![0].authPassword).toEqual({ name: "receivers", key: "smtp-password" });
    expect(critical.emailConfigs![0].requireTLS).toBe(true);
  });

  it("matches labels as Alertmanager does: anchored regexes, missing label is empty", () => {
    expect(matches({ name: "severity", value: "crit", matchType: "=~" }, { severity: "critical" })).toBe(false);
    expect(matches({ name: "severity", value: "crit.*", matchType: "=~" }, { severity: "critical" })).toBe(true);
    expect(matches({ name: "team", value: "", matchType: "=" }, {})).toBe(true);
    expect(matches({ name: "team", value: "security", matchType: "!=" }, {})).toBe(true);
    expect(matches({ name: "team", value: "sec.*", matchType: "!~" }, { team: "security" })).toBe(false);
  });
});

describe("inhibition", () => {
  const rulesIn = inhibitRules();
  const critical = { alertname: "AvailabilityErrorBudgetBurn", namespace: "shop", severity: "critical" };
  const warning = { alertname: "AvailabilityErrorBudgetBurn", namespace: "shop", severity: "warning" };

  it("silences a warning while the critical alert of the same name fires in the same namespace", () => {
    expect(isInhibited(warning, [critical, warning], rulesIn)).toBe(true);
  });

  it("does not silence a warning of another namespace or another alert", () => {
    expect(isInhibited({ ...warning, namespace: "other" }, [critical], rulesIn)).toBe(false);
    expect(isInhibited({ ...warning, alertname: "HighLatencyP95" }, [critical], rulesIn)).toBe(false);
  });

  it("never silences a critical alert", () => {
    expect(isInhibited(critical, [critical, { ...critical, severity: "critical" }], rulesIn)).toBe(false);
  });
});
