import { describe, expect, it } from "vitest";
import { alertRuleGroups, isAlertingRule, metricCatalog } from "../../components/alerts";
import { dashboardConfigMap, dashboardQueries, dataLayerDashboard, GrafanaDashboards, PROMETHEUS_DATASOURCE, sloDashboard } from "../../components/dashboards";
import { thresholds } from "../../infra/slo";
import { inputs, ofType, planProgram } from "../harness";
import { parsePromQL, withoutGrafanaVariables } from "../observability/promql";

const options = { thresholds, appNamespace: "shop", dataNamespace: "shop-infra" };
const slo = sloDashboard(options);
const data = dataLayerDashboard(options);
const recorded = new Set(
  alertRuleGroups({ ...options, runbookBaseUrl: "https://runbooks.example.org" })
    .flatMap((g) => g.rules)
    .filter((r) => !isAlertingRule(r))
    .map((r) => ("record" in r ? r.record : "")),
);

type Panel = { title?: string; type?: string; fieldConfig?: { defaults?: { thresholds?: { steps: { value: number | null }[] }; unit?: string } } };
const panels = (d: typeof slo) => (d.panels ?? []).filter((p) => p.type !== "row") as Panel[];
const panel = (d: typeof slo, title: string) => {
  const p = panels(d).find((x) => x.title === title);
  if (!p) throw new Error(`no panel "${title}" in ${d.title}`);
  return p;
};
const thresholdValues = (p: Panel) => (p.fieldConfig?.defaults?.thresholds?.steps ?? []).map((s) => s.value);

describe.each([
  ["service levels", slo],
  ["data layer", data],
])("the %s dashboard", (_name, d) => {
  it("has a fixed uid, so that Grafana keeps one dashboard across reloads", () => {
    expect(d.uid).toMatch(/^diaspomoney-[a-z-]+$/);
  });

  it("queries only valid PromQL", () => {
    const queries = dashboardQueries(d);
    expect(queries.length).toBeGreaterThan(8);
    for (const q of queries) expect(parsePromQL(withoutGrafanaVariables(q.expr)).errors, `${q.panel}: ${q.expr}`).toEqual([]);
  });

  it("names only metrics an exporter exposes or a rule records", () => {
    for (const q of dashboardQueries(d)) {
      for (const m of parsePromQL(withoutGrafanaVariables(q.expr)).metrics) {
        expect(m in metricCatalog || recorded.has(m), `${q.panel} reads ${m}`).toBe(true);
      }
    }
  });

  it("reads the Prometheus datasource the chart provisions", () => {
    for (const p of panels(d) as { datasource?: unknown }[]) expect(p.datasource).toEqual(PROMETHEUS_DATASOURCE);
  });

  it("is read-only: changes go through code", () => {
    expect(d.editable).toBe(false);
  });
});

describe("the service levels dashboard", () => {
  it("shows p50, p95 and p99 latency with the 200 ms objective as a line", () => {
    const p = panel(slo, "Response time percentiles");
    const exprs = dashboardQueries(slo).filter((q) => q.panel === p.title).map((q) => q.expr);
    expect(exprs.map((e) => e.match(/histogram_quantile\(([\d.]+)/)?.[1])).toEqual(["0.5", "0.95", "0.99"]);
    expect(thresholdValues(p)).toContain(0.2);
    expect(p.fieldConfig?.defaults?.unit).toBe("s");
  });

  it("shows the error rate against 0.1 % and the error budget left over 30 days", () => {
    expect(thresholdValues(panel(slo, "Error rate (5 m)"))).toContain(0.001);
    expect(thresholdValues(panel(slo, "Error rate"))).toContain(0.001);
    const budget = dashboardQueries(slo).find((q) => q.panel === "Error budget left (30 d)")!;
    expect(budget.expr).toBe('slo:error_budget:remaining_ratio30d{namespace="shop"}');
    expect(thresholdValues(panel(slo, "Availability (30 d)"))).toContain(0.999);
  });

  it("shows throughput against 80 % of the tested capacity and the capacity itself", () => {
    expect(thresholdValues(panel(slo, "Throughput"))).toEqual([null, 800, 1000]);
  });

  it("follows the thresholds table", () => {
    const other = sloDashboard({ ...options, thresholds: { ...thresholds, latencyP95: { value: 0.3, unit: "seconds" } } });
    expect(thresholdValues(panel(other, "Response time percentiles"))).toContain(0.3);
  });
});

describe("the data layer dashboard", () => {
  it("covers Kafka, Redis and MongoDB", () => {
    const rows = (data.panels ?? []).filter((p) => p.type === "row").map((p) => p.title);
    expect(rows).toEqual(["Kafka", "Redis", "MongoDB"]);
    const metrics = new Set(dashboardQueries(data).flatMap((q) => parsePromQL(withoutGrafanaVariables(q.expr)).metrics));
    for (const m of ["kafka_server_replicamanager_underreplicatedpartitions", "kafka_controller_kafkacontroller_offlinepartitionscount", "redis_cluster_state", "mongodb_rs_members_health", "mongodb_pbm_backup_last_transition_ts"]) {
      expect(metrics).toContain(m);
    }
  });

  it("colours the backup age red beyond 26 hours", () => {
    expect(thresholdValues(panel(data, "Last backup age"))).toContain(26 * 3600);
  });

  it("selects the data namespace only", () => {
    for (const q of dashboardQueries(data)) expect(q.expr, q.panel).toContain('namespace="shop-infra"');
  });
});

describe("GrafanaDashboards", () => {
  it("ships each dashboard as a ConfigMap the sidecar picks up", async () => {
    const plan = await planProgram("dev", async () => {
      new GrafanaDashboards("dash", { namespace: "shop", dashboards: [slo, data], labels: (name) => ({ "app.kubernetes.io/name": name }) });
      return {};
    });
    const maps = ofType(plan, "kubernetes:core/v1:ConfigMap").map(inputs);
    expect(maps.map((m) => m.metadata.name).sort()).toEqual(["dashboard-diaspomoney-data-layer", "dashboard-diaspomoney-slo"]);
    for (const m of maps) {
      expect(m.metadata.labels.grafana_dashboard).toBe("1");
      expect(m.metadata.namespace).toBe("shop");
      const [key, json] = Object.entries(m.data as Record<string, string>)[0];
      const parsed = JSON.parse(json);
      expect(key).toBe(`${parsed.uid}.json`);
      expect(parsed.panels.length).toBeGreaterThan(5);
    }
  });

  it("refuses a dashboard without uid", () => {
    const { uid: _uid, ...anonymous } = slo;
    expect(() => dashboardConfigMap(anonymous)).toThrow(/has no uid/);
    expect(dashboardConfigMap(slo)).toMatchObject({ name: "dashboard-diaspomoney-slo", key: "diaspomoney-slo.json" });
  });
});
