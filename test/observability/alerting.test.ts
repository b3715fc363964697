/**
 * The alert rules and the Alertmanager configuration each environment deploys, read back from the
 * plan: the rules parse and name real metrics, and the routing tree in the AlertmanagerConfig sends
 * each kind of alert where the seed says.
 */
import { describe, expect, it } from "vitest";
import { integrationsOf, metricCatalog, receiversFor, type AlertingRule, type InhibitRule, type Route, type RuleGroup, isInhibited } from "../../components/alerts";
import { cachedPlan, inputs, k8sObject, ofType, STACKS, stackConfig } from "../harness";
import { parsePromQL } from "./promql";

async function deployed(stack: string) {
  const plan = await cachedPlan(stack);
  const app = `diaspomoney-${stack}`;
  const groups: RuleGroup[] = ofType(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((r) => inputs(r).spec.groups);
  const amc = inputs(k8sObject(plan, "AlertmanagerConfig", "diaspomoney-alerting", app)).spec as {
    route: Route;
    inhibitRules: InhibitRule[];
    receivers: Parameters<typeof integrationsOf>[0];
  };
  const alerting = JSON.parse(stackConfig(stack).values["diaspomoney-platform:alerting"]);
  return { plan, app, groups, amc, alerting };
}

describe.each(STACKS)("alerting of %s", (stack) => {
  it("deploys rules that parse and name only metrics someone exposes or records", async () => {
    const { groups } = await deployed(stack);
    const rules = groups.flatMap((g) => g.rules);
    const recorded = new Set(rules.flatMap((r) => ("record" in r ? [r.record] : [])));
    expect(rules.length).toBeGreaterThan(25);
    for (const r of rules) {
      const parsed = parsePromQL(r.expr);
      expect(parsed.errors, r.expr).toEqual([]);
      for (const m of parsed.metrics) expect(m in metricCatalog || recorded.has(m), `${r.expr} names ${m}`).toBe(true);
    }
  });

  it("gives every deployed alert a severity, a team and a runbook under runbooks.diaspomoney.fr", async () => {
    const { groups } = await deployed(stack);
    const alerts = groups.flatMap((g) => g.rules).filter((r): r is AlertingRule => "alert" in r);
    expect(new Set(alerts.map((a) => a.alert)).size).toBeGreaterThan(18);
    for (const a of alerts) {
      expect(["critical", "warning"]).toContain(a.labels.severity);
      expect(a.labels.team).toMatch(/^(platform|security|payments)$/);
      expect(a.annotations.runbook_url).toBe(`https://runbooks.diaspomoney.fr/${a.alert}`);
    }
  });

  it("watches the environment's own namespaces in its rules", async () => {
    const { groups, app } = await deployed(stack);
    const exprs = groups.flatMap((g) => g.rules).map((r) => r.expr).join("\n");
    expect(exprs).toContain(`namespace="${app}"`);
    expect(exprs).toContain(`namespace="${app}-infra"`);
    for (const other of STACKS.filter((s) => s !== stack)) expect(exprs).not.toContain(`diaspomoney-${other}"`);
  });

  it("routes critical alerts to on-call email, the environment's Slack channel and PagerDuty", async () => {
    const { amc, alerting } = await deployed(stack);
    const names = receiversFor(amc.route, { alertname: "KafkaOfflinePartitions", severity: "critical", team: "platform" });
    expect(names.flatMap((n) => integrationsOf(amc.receivers, n))).toEqual([`email:${alerting.emailTo}`, `slack:${alerting.slackChannel}`, "pagerduty"]);
  });

  it("routes warnings to email and Slack", async () => {
    const { amc, alerting } = await deployed(stack);
    const names = receiversFor(amc.route, { alertname: "VolumeSpaceLow", severity: "warning", team: "platform" });
    expect(names.flatMap((n) => integrationsOf(amc.receivers, n))).toEqual([`email:${alerting.emailTo}`, `slack:${alerting.slackChannel}`]);
  });

  it("routes security and payment alerts to their teams' addresses from the stack config", async () => {
    const { amc, alerting } = await deployed(stack);
    const security = receiversFor(amc.route, { alertname: "AuthFailureBurst", severity: "warning", team: "security" }).flatMap((n) => integrationsOf(amc.receivers, n));
    expect(security[0]).toBe(`email:${alerting.securityEmail}`);
    const payments = receiversFor(amc.route, { alertname: "PaymentErrorRateHigh", severity: "critical", team: "payments" }).flatMap((n) => integrationsOf(amc.receivers, n));
    expect(payments).toEqual([`email:${alerting.paymentsEmail}`, `email:${alerting.emailTo}`, `slack:${alerting.slackChannel}`, "pagerduty"]);
  });

  it("inhibits a slow-burn warning while the fast burn pages", async () => {
    const { amc, app } = await deployed(stack);
    const fast = { alertname: "AvailabilityErrorBudgetBurn", severity: "critical", namespace: app };
    const slow = { ...fast, severity: "warning" };
    expect(isInhibited(slow, [fast], amc.inhibitRules)).toBe(true);
    expect(isInhibited(fast, [slow], amc.inhibitRules)).toBe(false);
  });

  it("reads every credential from the receivers Secret, which holds them as secrets", async () => {
    const { plan, app, amc, alerting } = await deployed(stack);
    const secret = inputs(k8sObject(plan, "Secret", "alertmanager-receivers", app));
    expect(secret.stringData).toEqual({ "slack-webhook-url": "[secret]", "pagerduty-routing-key": "[secret]", "smtp-password": "[secret]" });
    const refs = JSON.stringify(amc.receivers).match(/"name":"alertmanager-receivers","key":"[a-z-]+"|"key":"[a-z-]+","name":"alertmanager-receivers"/g) ?? [];
    // Four email receivers (SMTP password), two Slack (webhook URL), one PagerDuty (routing key).
    expect(refs.length).toBe(7);
    for (const r of amc.receivers) for (const e of r.emailConfigs ?? []) expect(e).toMatchObject({ smarthost: alerting.smtpSmarthost, from: alerting.emailFrom, requireTLS: true });
  });
});
