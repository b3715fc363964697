/**
 * The observability area of each environment, as the plan shows it: the chart and its values per
 * stack, what Prometheus scrapes, the dashboards, the Sentry Secret and the absence of secrets
 * anywhere they must not be.
 */
import { describe, expect, it } from "vitest";
import { computedState } from "../../infra/plan/recorder";
import { leakedPlaceholders } from "../../infra/plan/run";
import { environments } from "../../stacks";
import { cachedPlan, inputs, k8sObject, ofType, STACKS, stackConfig, type Plan } from "../harness";

function monitoringChart(plan: Plan) {
  const charts = ofType(plan, "kubernetes:helm.sh/v4:Chart").filter((c) => inputs(c).chart === "kube-prometheus-stack");
  expect(charts).toHaveLength(1);
  return charts[0];
}

describe.each(STACKS)("observability of %s", (stack) => {
  const spec = environments[stack];
  const app = `diaspomoney-${stack}`;
  const infra = `diaspomoney-${stack}-infra`;

  it("installs kube-prometheus-stack 88.5.3 from its official repository, as a release unique in the cluster", async () => {
    const chart = inputs(monitoringChart(await cachedPlan(stack)));
    expect(chart).toMatchObject({ chart: "kube-prometheus-stack", version: "88.5.3", name: `monitoring-${stack}`, namespace: app });
    expect(chart.repositoryOpts.repo).toBe("https://prometheus-community.github.io/helm-charts");
  });

  it("never installs the operator's CRDs: the cluster stack owns them", async () => {
    const chart = inputs(monitoringChart(await cachedPlan(stack)));
    expect(chart.values.crds.enabled).toBe(false);
    expect(chart.skipCrds).toBe(true);
  });

  it("sizes Prometheus, Alertmanager and Grafana from the stack file", async () => {
    const v = inputs(monitoringChart(await cachedPlan(stack))).values;
    expect(v.prometheus.prometheusSpec.retention).toBe(spec.monitoring.prometheusRetention);
    expect(v.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe(spec.monitoring.prometheusStorage);
    expect(v.prometheus.prometheusSpec.replicas).toBe(spec.monitoring.prometheusReplicas);
    expect(v.prometheus.prometheusSpec.replicas).toBe({ dev: 1, rct: 1, prod: 2 }[stack]);
    expect(v.alertmanager.alertmanagerSpec.replicas).toBe(spec.monitoring.alertmanagerReplicas);
    expect(v.grafana.replicas).toBe(spec.monitoring.grafanaReplicas);
    expect(v.prometheus.prometheusSpec.externalUrl).toBe(`https://${spec.hosts.prometheus}`);
    expect(v.alertmanager.alertmanagerSpec.externalUrl).toBe(`https://${spec.hosts.alertmanager}`);
    expect(v.grafana["grafana.ini"].server.root_url).toBe(`https://${spec.hosts.grafana}`);
  });

  it("watches the app and infra namespaces, and nothing else", async () => {
    const v = inputs(monitoringChart(await cachedPlan(stack))).values;
    expect(v.prometheusOperator.namespaces).toEqual({ releaseNamespace: true, additional: [infra] });
    expect(v.prometheus.prometheusSpec.podMonitorNamespaceSelector.matchExpressions[0].values).toEqual([app, infra]);
    expect(v["kube-state-metrics"].namespaces).toBe(`${app},${infra}`);
  });

  it("creates monitors, rules and routing after the chart, and the chart after the namespaces", async () => {
    const plan = await cachedPlan(stack);
    const chart = monitoringChart(plan);
    const crs = plan.resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"));
    // 6 monitors, 4 rule groups of fixed alerts, 3 of anomaly detection, the AlertmanagerConfig.
    expect(crs.length).toBe(14);
    const waitsFor = (urn: string, target: string, seen = new Set<string>()): boolean => {
      if (seen.has(urn)) return false;
      seen.add(urn);
      const r = plan.resources.find((x) => x.urn === urn);
      return !!r && (r.dependsOn.includes(target) || r.dependsOn.some((d) => waitsFor(d, target, seen)));
    };
    for (const r of crs) expect(waitsFor(r.urn, chart.urn), r.urn).toBe(true);
    const appNamespace = ofType(plan, "kubernetes:core/v1:Namespace").find((n) => inputs(n).metadata.name === app)!;
    expect(waitsFor(chart.urn, appNamespace.urn)).toBe(true);
  });

  it("scrapes the app's metrics listener through its Service", async () => {
    const sm = inputs(k8sObject(await cachedPlan(stack), "ServiceMonitor", "web", app));
    expect(sm.spec.selector).toEqual({ matchLabels: { "app.kubernetes.io/name": "web" } });
    // The app's second listener (METRICS_PORT), not the public one.
    expect(sm.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "15s" }]);
  });

  it("scrapes Traefik, Kafka, Redis and MongoDB pods on their metrics ports", async () => {
    const plan = await cachedPlan(stack);
    const pm = (name: string, ns: string) => inputs(k8sObject(plan, "PodMonitor", name, ns)).spec;
    expect(pm("traefik", app)).toMatchObject({ selector: { matchLabels: { "app.kubernetes.io/name": "traefik" } }, podMetricsEndpoints: [{ port: "metrics" }] });
    expect(pm("kafka", infra)).toMatchObject({ selector: { matchLabels: { "strimzi.io/kind": "Kafka" } }, podMetricsEndpoints: [{ port: "tcp-prometheus" }] });
    expect(pm("redis", infra)).toMatchObject({ podMetricsEndpoints: [{ port: "redis-exporter" }] });
    expect(pm("mongodb", infra)).toMatchObject({
      selector: { matchLabels: { "app.kubernetes.io/name": "percona-server-mongodb", "app.kubernetes.io/component": "mongod" } },
      podMetricsEndpoints: [{ port: "metrics" }],
    });
  });

  it("scrapes cert-manager, keeping the certificates' own namespaces", async () => {
    const sm = inputs(k8sObject(await cachedPlan(stack), "ServiceMonitor", "cert-manager", app)).spec;
    expect(sm.namespaceSelector).toEqual({ matchNames: ["cert-manager"] });
    expect(sm.endpoints[0]).toMatchObject({ port: "tcp-prometheus-servicemonitor", honorLabels: true });
  });

  it("lets Prometheus reach every target it scrapes", async () => {
    const egress = inputs(k8sObject(await cachedPlan(stack), "NetworkPolicy", "monitoring-prometheus", app)).spec.egress;
    const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string>) =>
      a !== undefined && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
    const allowed = (labels: Record<string, string>, port: number, ns?: string) =>
      egress.some(
        (r: any) =>
          r.ports.some((p: any) => p.port === port) &&
          r.to.some((t: any) => sameLabels(t.podSelector?.matchLabels, labels) && (ns === undefined ? !t.namespaceSelector : t.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === ns)),
      );
    expect(allowed({ "app.kubernetes.io/name": "web" }, 9464)).toBe(true);
    expect(allowed({ "app.kubernetes.io/name": "web" }, 3000)).toBe(false);
    expect(allowed({ "app.kubernetes.io/name": "traefik" }, 9100)).toBe(true);
    expect(allowed({ "strimzi.io/kind": "Kafka" }, 9404, infra)).toBe(true);
    expect(allowed({ redis_setup_type: "cluster" }, 9121, infra)).toBe(true);
    expect(allowed({ "app.kubernetes.io/name": "percona-server-mongodb", "app.kubernetes.io/instance": "mongodb", "app.kubernetes.io/replset": "rs0", "app.kubernetes.io/component": "mongod" }, 9216, infra)).toBe(true);
  });

  it("ships the three dashboards to Grafana's sidecar", async () => {
    const plan = await cachedPlan(stack);
    for (const uid of ["diaspomoney-slo", "diaspomoney-data-layer", "diaspomoney-anomalies"]) {
      const cm = inputs(k8sObject(plan, "ConfigMap", `dashboard-${uid}`, app));
      expect(cm.metadata.labels.grafana_dashboard).toBe("1");
      expect(JSON.parse(cm.data[`${uid}.json`]).uid).toBe(uid);
    }
  });

  it("gives the app its Sentry DSN in a Secret, as a secret", async () => {
    const s = inputs(k8sObject(await cachedPlan(stack), "Secret", "sentry", app));
    expect(s.stringData).toEqual({ SENTRY_DSN: "[secret]" });
    expect(s.metadata.labels["diaspomoney.fr/environment"]).toBe(stack);
  });

  it("keeps secrets out of Helm values, ConfigMaps, custom resources and outputs", async () => {
    const plan = await cachedPlan(stack);
    const configSecrets = Object.values(stackConfig(stack).values).filter((v) => v.startsWith("offline-placeholder"));
    expect(configSecrets.length).toBeGreaterThan(3);
    expect(leakedPlaceholders(plan)).toEqual([]);

    const password = ofType(plan, "random:index/randomPassword:RandomPassword").find((r) => r.name === "monitoring-grafana-admin")!;
    const generated = String(computedState(password.type, password.name, password.inputs as Record<string, unknown>).result);
    expect(JSON.stringify(plan)).not.toContain(generated);

    const values = JSON.stringify(inputs(monitoringChart(plan)).values);
    expect(values).not.toContain("[secret]");
    for (const cm of ofType(plan, "kubernetes:core/v1:ConfigMap").filter((r) => r.urn.includes("GrafanaDashboards"))) {
      expect(JSON.stringify(inputs(cm))).not.toContain("[secret]");
    }
    const amc = JSON.stringify(inputs(k8sObject(plan, "AlertmanagerConfig", "diaspomoney-alerting", app)));
    expect(amc).not.toContain("[secret]");
    expect(amc).not.toMatch(/hooks\.slack\.com|events\.pagerduty\.com/);
    expect(JSON.stringify((plan.outputs as any).observability)).not.toContain("[secret]");
  });

  it("puts the standard labels on its objects and sends them through the stack's provider", async () => {
    const plan = await cachedPlan(stack);
    const ours = plan.resources.filter((r) => r.custom && r.urn.includes("diaspomoney:observability:"));
    expect(ours.length).toBeGreaterThan(15);
    for (const r of ours.filter((x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:helm.sh"))) {
      expect(inputs(r).metadata.labels, r.urn).toMatchObject({ "app.kubernetes.io/part-of": "diaspomoney", "diaspomoney.fr/environment": stack });
    }
    for (const r of ours.filter((x) => x.type.startsWith("kubernetes:"))) expect(r.provider, r.urn).toMatch(/pulumi:providers:kubernetes::kubernetes::/);
  });

  it("routes the edge's monitoring hosts to the stack's Services", async () => {
    const routes = ofType(await cachedPlan(stack), "kubernetes:traefik.io/v1alpha1:IngressRoute").map((r) => inputs(r).spec.routes[0]);
    const target = (host: string) => routes.find((r) => r.match.startsWith(`Host(\`${host}\`)`))?.services[0];
    expect(target(spec.hosts.grafana)).toMatchObject({ name: `monitoring-${stack}-grafana`, port: 80 });
    expect(target(spec.hosts.prometheus)).toEqual({ name: `monitoring-${stack}-prometheus`, port: 9090 });
    expect(target(spec.hosts.alertmanager)).toEqual({ name: `monitoring-${stack}-alertmanager`, port: 9093 });
  });
});
