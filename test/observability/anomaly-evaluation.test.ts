/**
 * The anomaly rules evaluated by Prometheus's own engine (promtool) over 19 days of synthetic traffic
 * with a daily cycle and quiet weekends: ordinary weeks (Monday mornings, Friday peaks, weekend
 * nights included) fire nothing, while a surge, an outage, a burst of failures and a surge at night
 * that stays under the daytime peak (what a fixed threshold misses) each fire the right alert, with
 * the labels the Alertmanager routes on.
 */
import { describe, expect, it } from "vitest";
import { alertRuleGroups, isAlertingRule, type RuleGroup } from "../../components/alerts";
import { anomalyRuleGroups } from "../../components/anomaly";
import { anomalySignals } from "../../infra/anomaly";
import { apiFamilies } from "../../infra/api";
import { thresholds } from "../../infra/slo";
import { checkRules, skipWithoutPromtool, testRules, type RuleTest } from "./promtool";
import { at, counter, plus, promtoolValues, scaled, weeklyRates, type Surge } from "./synthetic";

const NS = "shop";
const options = { signals: anomalySignals, families: apiFamilies, appNamespace: NS, siteRoute: "app", runbookBaseUrl: "https://runbooks.example.org" };
const groups = anomalyRuleGroups(options);
/** The request-rate signal without its traffic guard, evaluated beside it: what the guard keeps quiet. */
const requests = anomalySignals.find((s) => s.name === "http_requests")!;
const withUnguarded = anomalyRuleGroups({
  ...options,
  signals: [...anomalySignals, { ...requests, name: "unguarded_requests", alert: "UnguardedTrafficAnomaly", guard: { signal: "unguarded_requests", min: 0.001 } }],
});
const alertNames = [...new Set(withUnguarded.flatMap((g) => g.rules).filter(isAlertingRule).map((a) => a.alert))];
const DAYS = 16;
/**
 * Rules are evaluated every hour (promtool evaluates every group at this interval, and its time goes
 * into evaluating two weeks of baselines step by step): a week of baseline at Prometheus's 30 s would
 * make the run minutes long on a CI machine. Every alert still goes through pending before it fires
 * (its `for`, 10 to 20 minutes, spans one evaluation), so each incident lasts three hours and is
 * checked two hours in, at an evaluation.
 */
const EVALUATION_INTERVAL = "1h";

/** The input series of one scenario: app requests per family, payment and login counters. */
function inputSeries(surges: Partial<Record<"auth" | "payments" | "users" | "paymentFailures" | "loginFailures", Surge[]>> = {}, days = DAYS) {
  const traffic = (peak: number, seed: number, s: Surge[] = []) => weeklyRates({ peak, days, noise: 0.05, seed, surges: s });
  const auth = traffic(20, 1, surges.auth);
  const payments = traffic(8, 2, surges.payments);
  // Far under the traffic guard (0.5 requests/s): its spikes are noise.
  const users = traffic(0.08, 3, surges.users);
  const logins = traffic(2, 4);
  const paymentAttempts = scaled(payments, 0.125);
  const inWindow = (ws: Surge[] = []) => (m: number) => ws.find((w) => m >= w.from && m < w.to)?.factor;
  const failedShare = (m: number) => inWindow(surges.paymentFailures)(m) ?? 0.02;
  const extraFailedLogins = scaled(logins, (m) => (inWindow(surges.loginFailures)(m) ?? 0) / Math.max(logins[m], 1e-9));
  const app = (route: string, status: string, rates: number[]) => ({
    series: `http_request_duration_seconds_count{namespace="${NS}",route="${route}",method="POST",status="${status}"}`,
    values: promtoolValues(counter(rates)),
  });
  const count = (metric: string, outcome: string, rates: number[]) => ({
    series: `${metric}{namespace="${NS}",outcome="${outcome}"}`,
    values: promtoolValues(counter(rates)),
  });
  return [
    app("/api/auth/login", "200", scaled(auth, 0.998)),
    app("/api/auth/login", "500", scaled(auth, 0.002)),
    app("/api/payments/[id]", "200", scaled(payments, 0.999)),
    app("/api/payments/[id]", "503", scaled(payments, 0.001)),
    app("/api/users/me", "200", users),
    // Not an API family: never part of a family's series.
    app("/api/health", "200", traffic(50, 5)),
    count("app_payment_attempts_total", "succeeded", scaled(paymentAttempts, (m) => 1 - failedShare(m))),
    count("app_payment_attempts_total", "declined", scaled(paymentAttempts, (m) => failedShare(m) / 2)),
    count("app_payment_attempts_total", "failed", scaled(paymentAttempts, (m) => failedShare(m) / 2)),
    count("app_login_attempts_total", "succeeded", scaled(logins, 0.95)),
    count("app_login_attempts_total", "failed", plus(scaled(logins, 0.05), extraFailedLogins)),
  ];
}

const minutes = (m: number) => `${m}m`;
const annotations = (name: string, family?: string) => {
  const rule = withUnguarded.flatMap((g) => g.rules).filter(isAlertingRule).find((a) => a.alert === name && a.labels.family === family)!;
  return { ...rule.annotations, description: rule.annotations.description.replace(/\{\{ \$labels\.namespace \}\}/g, NS) };
};
const firing = (name: string, team: string, family?: string) => ({
  exp_labels: { severity: "warning", team, namespace: NS, ...(family ? { family } : {}) },
  exp_annotations: annotations(name, family),
});

describe.skipIf(skipWithoutPromtool)("anomaly detection evaluated by promtool", () => {
  it("type-checks every generated rule, the fixed alerts' and the anomaly rules'", () => {
    const all: RuleGroup[] = [...alertRuleGroups({ thresholds, appNamespace: NS, dataNamespace: `${NS}-infra`, runbookBaseUrl: "https://r" }), ...groups];
    const r = checkRules(all);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.ok, r.output).toBe(true);
  });

  it("rejects a rule Prometheus cannot evaluate, which a grammar alone accepts", () => {
    const broken: RuleGroup = { name: "broken", rules: [{ record: "x:rate5m", expr: "rate(http_request_duration_seconds_count)" }] };
    const r = checkRules([broken]);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/range vector/);
  });

  it("fires nothing over ordinary weeks, and the right alerts on a surge, an outage and bursts of failures", () => {
    // Friday, day 15: one incident after the other, each in its own three hours.
    const nightSurge = { from: at(15, 1), to: at(15, 4), factor: 4 }; // 4x the night, still under the day's peak
    const loginFailures = { from: at(15, 5), to: at(15, 8), factor: 3 };
    const outage = { from: at(15, 9), to: at(15, 12), factor: 0 };
    const surge = { from: at(15, 14), to: at(15, 17), factor: 5 }; // at the week's busiest hours
    const paymentFailures = { from: at(15, 17), to: at(15, 20), factor: 0.3 };
    // Before them, every three hours for two weeks: weekday peaks, weekend nights, Monday mornings.
    const ordinary: number[] = [];
    for (let m = at(1, 0); m < nightSurge.from; m += 180) ordinary.push(m);
    const test: RuleTest = {
      interval: "1m",
      input_series: inputSeries({ auth: [nightSurge, surge], users: [surge], payments: [outage], paymentFailures: [paymentFailures], loginFailures: [loginFailures] }),
      alert_rule_test: [
        ...ordinary.flatMap((m) => alertNames.map((alertname) => ({ eval_time: minutes(m), alertname, exp_alerts: [] }))),
        // What a fixed threshold set for the day misses: a surge at night that stays under the daytime peak.
        { eval_time: minutes(at(15, 3)), alertname: "ApiTrafficAnomaly", exp_alerts: [firing("ApiTrafficAnomaly", "security", "auth")] },
        { eval_time: minutes(at(15, 7)), alertname: "LoginFailureAnomaly", exp_alerts: [firing("LoginFailureAnomaly", "security")] },
        { eval_time: minutes(at(15, 7)), alertname: "LoginVolumeAnomaly", exp_alerts: [firing("LoginVolumeAnomaly", "security")] },
        // An outage of /api/payments: its traffic and the payments both fall, for the payments team.
        { eval_time: minutes(at(15, 11)), alertname: "ApiTrafficAnomaly", exp_alerts: [firing("ApiTrafficAnomaly", "payments", "payments")] },
        { eval_time: minutes(at(15, 11)), alertname: "PaymentVolumeAnomaly", exp_alerts: [firing("PaymentVolumeAnomaly", "payments")] },
        // The surge on auth fires, for the security team; the same surge on users, under the traffic guard, does not.
        { eval_time: minutes(at(15, 16)), alertname: "ApiTrafficAnomaly", exp_alerts: [firing("ApiTrafficAnomaly", "security", "auth")] },
        {
          eval_time: minutes(at(15, 16)),
          alertname: "UnguardedTrafficAnomaly",
          exp_alerts: [firing("UnguardedTrafficAnomaly", "security", "auth"), firing("UnguardedTrafficAnomaly", "platform", "users")],
        },
        { eval_time: minutes(at(15, 19)), alertname: "PaymentFailureAnomaly", exp_alerts: [firing("PaymentFailureAnomaly", "payments")] },
        // Between incidents and after them, quiet again.
        { eval_time: minutes(at(15, 13, 0)), alertname: "ApiTrafficAnomaly", exp_alerts: [] },
        { eval_time: minutes(at(15, 13, 0)), alertname: "PaymentVolumeAnomaly", exp_alerts: [] },
        { eval_time: minutes(at(15, 21)), alertname: "PaymentFailureAnomaly", exp_alerts: [] },
      ],
    };
    const r = testRules(withUnguarded, [test], EVALUATION_INTERVAL);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.ok, r.output.slice(0, 4000)).toBe(true);
  }, 300_000);

  it("fails when an expected alert does not fire (the evaluation can fail)", () => {
    const r = testRules(
      groups,
      [
        {
          interval: "1m",
          input_series: inputSeries({}, 2),
          alert_rule_test: [{ eval_time: minutes(at(1, 14)), alertname: "ApiTrafficAnomaly", exp_alerts: [firing("ApiTrafficAnomaly", "security", "auth")] }],
        },
      ],
      EVALUATION_INTERVAL,
    );
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/FAILED[\s\S]*ApiTrafficAnomaly/);
  }, 120_000);
});
