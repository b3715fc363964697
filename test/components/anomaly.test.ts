import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alertRoute, isAlertingRule, metricCatalog, receivers, receiversFor, type RecordingRule } from "../../components/alerts";
import { anomalyProblems, anomalyRuleGroups, anomalySeries, BASELINE, signalExpr, type AnomalySignal } from "../../components/anomaly";
import { apiFamilyProblems, familyOfPath, familyPathPattern, familyRouteName, familyRouterPattern, type ApiFamily } from "../../components/api-families";
import { ANOMALY_LEGENDS, anomalyDashboard, dashboardQueries } from "../../components/dashboards";
import { anomalySignals } from "../../infra/anomaly";
import { apiFamilies } from "../../infra/api";
import { parsePromQL, withoutGrafanaVariables } from "../observability/promql";

const options = { signals: anomalySignals, families: apiFamilies, appNamespace: "shop", siteRoute: "app", runbookBaseUrl: "https://runbooks.example.org" };
const groups = anomalyRuleGroups(options);
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter(isAlertingRule);
const recordings = rules.filter((r): r is RecordingRule => !isAlertingRule(r));
const signal = (name: string) => anomalySignals.find((s) => s.name === name)! as AnomalySignal;

describe("API families", () => {
  it("are the seed's four, valid", () => {
    expect(apiFamilies.map((f) => f.pathPrefix)).toEqual(["/api/auth", "/api/users", "/api/transactions", "/api/payments"]);
    expect(apiFamilyProblems(apiFamilies)).toEqual([]);
  });

  it("refuse a name that is not a label value, a path that does not follow it, and duplicates", () => {
    const bad: ApiFamily[] = [
      { name: "Auth", pathPrefix: "/api/Auth", team: "security", edge: {} },
      { name: "pay", pathPrefix: "/api/payments", team: "payments", edge: {} },
      { name: "pay", pathPrefix: "/api/pay", team: "payments", edge: { maxRequestBodyBytes: 0 } },
    ];
    expect(apiFamilyProblems(bad)).toEqual([
      'family "Auth": the name must be lower-case letters (it is a label value and part of object names)',
      'family "pay": pathPrefix must be /api/pay (got /api/payments): the metrics derive the family from the path',
      'family "pay" is defined twice',
      'family "pay": maxRequestBodyBytes must be positive',
    ]);
  });

  it("classify paths and Next.js route patterns as the recording rules do", () => {
    expect(familyOfPath("/api/payments/[id]", apiFamilies)).toBe("payments");
    expect(familyOfPath("/api/auth", apiFamilies)).toBe("auth");
    expect(familyOfPath("/api/auth/login", apiFamilies)).toBe("auth");
    expect(familyOfPath("/api/authx", apiFamilies)).toBeUndefined();
    expect(familyOfPath("/api/health", apiFamilies)).toBeUndefined();
    expect(familyOfPath("/x/api/auth", apiFamilies)).toBeUndefined();
  });

  it("give every path below a family's prefix that family, and no other path one", () => {
    fc.assert(
      fc.property(fc.constantFrom(...apiFamilies.map((f) => f.name), "health", "monitoring", "authz"), fc.stringMatching(/^(\/[a-z[\]0-9]{0,8}){0,3}$/), (first, rest) => {
        const expected = apiFamilies.some((f) => f.name === first) ? first : undefined;
        expect(familyOfPath(`/api/${first}${rest}`, apiFamilies)).toBe(expected);
      }),
    );
  });

  it("name the families' IngressRoutes so that Traefik's router names give the family back", () => {
    const router = `shop-${familyRouteName("app", { name: "payments" })}-0123456789@kubernetescrd`;
    const match = new RegExp(`^(?:${familyRouterPattern("shop", "app", apiFamilies)})$`).exec(router);
    expect(match?.[1]).toBe("payments");
    expect(new RegExp(`^(?:${familyRouterPattern("shop", "app", apiFamilies)})$`).test("shop-app-0123456789@kubernetescrd")).toBe(false);
  });
});

describe("the anomaly signals of infra/anomaly.ts", () => {
  it("cover traffic, errors and latency per family, payments, logins and edge refusals", () => {
    expect(anomalySignals.map((s) => s.name)).toEqual(["http_requests", "http_errors", "http_latency", "edge_refusals", "payments", "payment_failures", "login_attempts", "login_failures"]);
    expect(anomalyProblems(anomalySignals)).toEqual([]);
  });

  it("refuse a guard on an unknown or differently scoped signal, a zero floor and a negative threshold", () => {
    const base = signal("payments");
    const bad: AnomalySignal[] = [
      base,
      { ...base, name: "a", guard: { signal: "nope", min: 1 } },
      { ...base, name: "b", source: { kind: "appRequests" }, guard: { signal: "payments", min: 1 } },
      { ...base, name: "c", stddevFloor: 0, zScore: -1 },
    ];
    expect(anomalyProblems(bad)).toEqual([
      'signal "a": its guard names no signal ("nope")',
      'signal "b": its guard "payments" must be per family like the signal',
      'signal "c": zScore must be positive (got -1)',
      'signal "c": stddevFloor must be positive (got 0), or a flat week divides by zero',
    ]);
    expect(() => anomalyRuleGroups({ ...options, signals: bad })).toThrow(/Invalid anomaly signals/);
  });
});

describe("the generated anomaly rules", () => {
  it("are valid PromQL, every one of them", () => {
    // 8 current values, 4 baselines each, 4 per-family signals × 4 families + 4 per-namespace alerts.
    expect([recordings.length, alerts.length]).toEqual([8 + 8 * 4, 4 * 4 + 4]);
    for (const r of rules) expect(parsePromQL(r.expr).errors, `${"alert" in r ? r.alert : r.record}: ${r.expr}`).toEqual([]);
  });

  it("read only exposed metrics, and recordings defined before they are read", () => {
    const seen = new Set<string>();
    for (const r of recordings) {
      for (const m of parsePromQL(r.expr).metrics) expect(m in metricCatalog || seen.has(m), `${r.record} reads ${m}`).toBe(true);
      seen.add(r.record);
    }
    for (const a of alerts) for (const m of parsePromQL(a.expr).metrics) expect(seen.has(m), `${a.alert} reads ${m}`).toBe(true);
  });

  it("record current values every 30 s and the week's baselines every 5 minutes", () => {
    expect(groups.map((g) => [g.name, g.interval])).toEqual([
      ["anomaly.recording", "30s"],
      ["anomaly-baselines.recording", "5m"],
      ["anomaly.alerts", undefined],
    ]);
    const n = anomalySeries(signal("http_requests"));
    const baseline = Object.fromEntries(groups[1].rules.map((r) => [(r as RecordingRule).record, r.expr]));
    expect(baseline[n.avg]).toBe(`avg_over_time(${n.value}[1w])`);
    expect(baseline[n.prediction]).toBe(`avg_over_time(${n.value}[1h] offset 167h30m)\nor ${n.avg}`);
    expect(baseline[n.deviation]).toBe(`${n.value} - ${n.prediction}`);
    expect(baseline[n.stddev]).toBe(`stddev_over_time(${n.deviation}[1w])`);
    expect(BASELINE.seasonalOffset).toBe("167h30m");
  });

  it("derive the family from the app's route label and from Traefik's router name", () => {
    expect(signalExpr(signal("http_requests"), options)).toContain(`label_replace(rate(http_request_duration_seconds_count{namespace="shop",route=~"${familyPathPattern(apiFamilies)}"}[5m]), "family", "$1", "route"`);
    expect(signalExpr(signal("edge_refusals"), options)).toContain(`code=~"429|413"`);
    expect(signalExpr(signal("edge_refusals"), options)).toContain(`"family", "$1", "router", "${familyRouterPattern("shop", "app", apiFamilies)}"`);
  });

  it("never divide by an absent or zero volume (no NaN in a week of baseline)", () => {
    for (const name of ["http_errors", "payment_failures"]) expect(signalExpr(signal(name), options)).toMatch(/> 0\)$/);
    expect(signalExpr(signal("http_latency"), options)).toMatch(/>= 0$/);
  });

  it("alert per family with the family's team, and per namespace with the signal's", () => {
    const traffic = alerts.filter((a) => a.alert === "ApiTrafficAnomaly");
    expect(traffic.map((a) => [a.labels.family, a.labels.team])).toEqual([
      ["auth", "security"],
      ["users", "platform"],
      ["transactions", "payments"],
      ["payments", "payments"],
    ]);
    expect(alerts.filter((a) => a.alert === "EdgeRefusalAnomaly").every((a) => a.labels.team === "security")).toBe(true);
    const teamOf = (name: string) => alerts.find((a) => a.alert === name)!.labels.team;
    expect([teamOf("PaymentVolumeAnomaly"), teamOf("PaymentFailureAnomaly"), teamOf("LoginFailureAnomaly"), teamOf("LoginVolumeAnomaly")]).toEqual(["payments", "payments", "security", "security"]);
  });

  it("reach the security and payments receivers through the existing routing tree", () => {
    const reach = (name: string, family?: string) => {
      const a = alerts.find((x) => x.alert === name && x.labels.family === family)!;
      return receiversFor(alertRoute(), { alertname: a.alert, namespace: "shop", ...a.labels });
    };
    expect(reach("ApiTrafficAnomaly", "auth")).toEqual([receivers.security, receivers.warning]);
    expect(reach("ApiErrorRatioAnomaly", "payments")).toEqual([receivers.payments, receivers.warning]);
    expect(reach("ApiLatencyAnomaly", "users")).toEqual([receivers.warning]);
    expect(reach("LoginFailureAnomaly")).toEqual([receivers.security, receivers.warning]);
  });

  it("guard every alert with its minimum traffic, now or a week ago", () => {
    for (const a of alerts) {
      const s = anomalySignals.find((x) => x.alert === a.alert)!;
      const g = anomalySeries(signal(s.guard.signal));
      expect(a.expr, a.alert).toContain(` >= ${s.guard.min} or ${g.prediction}`);
      expect(a.expr).toContain(`${g.value}{`);
    }
  });

  it("compare in the signal's direction, beyond both the z-score and the minimum change", () => {
    const z = (name: string) => parsePromQL(alerts.find((a) => a.alert === name)!.expr).comparisons;
    expect(z("ApiErrorRatioAnomaly")).toContainEqual({ op: ">", number: "3" });
    expect(alerts.find((a) => a.alert === "ApiTrafficAnomaly")!.expr).toMatch(/^abs\(/);
    expect(alerts.find((a) => a.alert === "ApiErrorRatioAnomaly")!.expr).toContain("> 1 * anomaly:http_errors:ratio_rate5m:prediction");
    const down = anomalyRuleGroups({ ...options, signals: [{ ...signal("payments"), direction: "down", zScore: 4 }] })[2].rules[0];
    expect(down.expr).toContain("clamp_min(anomaly:payments:rate5m:deviation:stddev_over_time_1w{namespace=\"shop\"}, 0.02) < -4\n");
    expect(down.expr).toContain("< -0.5 * anomaly:payments:rate5m:prediction");
  });
});

describe("the anomalies dashboard", () => {
  const d = anomalyDashboard(options);

  it("shows every signal with its value, last week's and the band, in valid PromQL", () => {
    const queries = dashboardQueries(d);
    expect(queries.length).toBe(anomalySignals.length * 4);
    for (const q of queries) expect(parsePromQL(withoutGrafanaVariables(q.expr)).errors, q.expr).toEqual([]);
    const recorded = new Set(recordings.map((r) => r.record));
    for (const q of queries) for (const m of parsePromQL(q.expr).metrics) expect(recorded.has(m), `${q.panel} reads ${m}`).toBe(true);
  });

  it("fills the band between its bounds, and draws it as wide as the alert's condition", () => {
    const p = (d.panels ?? []).find((x) => x.title === "Request rate — /api/$family") as any;
    const fill = p.fieldConfig.overrides.find((o: any) => o.matcher.options === ANOMALY_LEGENDS.upper);
    expect(fill.properties).toContainEqual({ id: "custom.fillBelowTo", value: ANOMALY_LEGENDS.lower });
    const upper = p.targets.find((t: any) => t.legendFormat === ANOMALY_LEGENDS.upper).expr as string;
    expect(upper).toContain("3 * clamp_min(anomaly:http_requests:rate5m:deviation:stddev_over_time_1w");
    expect(upper).toContain("0.5 * anomaly:http_requests:rate5m:prediction");
  });

  it("selects one family at a time through a variable listing the families", () => {
    expect((d.templating?.list ?? []).map((v: any) => [v.name, v.query])).toEqual([["family", "auth,users,transactions,payments"]]);
    expect(d.uid).toBe("diaspomoney-anomalies");
  });
});
