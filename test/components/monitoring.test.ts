import { describe, expect, it } from "vitest";
import {
  KUBE_STATE_METRICS_COLLECTORS,
  KUBELET_CHART_RELABELINGS,
  kubePrometheusStackValues,
  monitoringNetworkPolicies,
  monitorSpec,
  MonitoringStack,
  ScrapeTargets,
  stackEndpoints,
  type MonitoringStackArgs,
} from "../../components/monitoring";
import { computedState } from "../../infra/plan/recorder";
import { inputs, ofType, planProgram } from "../harness";

function stackArgs(overrides: Partial<MonitoringStackArgs> = {}): MonitoringStackArgs {
  return {
    namespace: "shop",
    watchedNamespaces: ["shop-infra"],
    releaseName: "mon-test",
    chart: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" },
    installChart: true,
    labels: (name) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "test" }),
    prometheus: { retention: "15d", storage: "50Gi", externalUrl: "https://prometheus.example.org" },
    alertmanager: { replicas: 2, configName: "routing", externalUrl: "https://alertmanager.example.org" },
    grafana: { replicas: 1, rootUrl: "https://grafana.example.org" },
    network: {
      uiClients: { "app.kubernetes.io/name": "traefik" },
      scrapeTargets: [
        { podLabels: { "app.kubernetes.io/name": "web" }, ports: [3000] },
        { namespace: "shop-infra", podLabels: { redis_setup_type: "cluster" }, ports: [9121] },
      ],
      apiServer: { cni: "calico", cidrs: ["10.0.0.1/32"] },
      notificationPorts: [443, 587],
    },
    ...overrides,
  };
}

const values = kubePrometheusStackValues(stackArgs()) as any;
const restrictedContainer = (sc: any) => {
  expect(sc.allowPrivilegeEscalation).toBe(false);
  expect(sc.capabilities.drop).toEqual(["ALL"]);
  expect(sc.runAsNonRoot ?? true).toBe(true);
};
const restrictedPod = (sc: any) => {
  expect(sc.runAsNonRoot).toBe(true);
  expect(sc.runAsUser).toBeGreaterThan(0);
  expect(sc.seccompProfile).toEqual({ type: "RuntimeDefault" });
};

describe("kube-prometheus-stack values under Pod Security restricted", () => {
  it("disables node-exporter, which needs the host's network, PIDs and paths", () => {
    expect(values.nodeExporter.enabled).toBe(false);
  });

  it("disables the admission webhook (Helm hook Jobs that helm.v4.Chart does not run) and the TLS that depends on it", () => {
    expect(values.prometheusOperator.admissionWebhooks.enabled).toBe(false);
    expect(values.prometheusOperator.admissionWebhooks.patch.enabled).toBe(false);
    expect(values.prometheusOperator.tls.enabled).toBe(false);
  });

  it("runs Grafana without volume, root init container or Helm test pod", () => {
    expect(values.grafana.persistence.enabled).toBe(false);
    expect(values.grafana.initChownData.enabled).toBe(false);
    expect(values.grafana.testFramework.enabled).toBe(false);
  });

  it("gives every pod and container a restricted security context", () => {
    restrictedPod(values.prometheusOperator.securityContext);
    restrictedContainer(values.prometheusOperator.containerSecurityContext);
    restrictedPod(values.prometheus.prometheusSpec.securityContext);
    restrictedPod(values.alertmanager.alertmanagerSpec.securityContext);
    restrictedPod(values.grafana.securityContext);
    restrictedContainer(values.grafana.containerSecurityContext);
    restrictedContainer(values.grafana.sidecar.securityContext);
    restrictedPod(values["kube-state-metrics"].securityContext);
    restrictedContainer(values["kube-state-metrics"].containerSecurityContext);
    expect(values.grafana.containerSecurityContext.privileged).toBe(false);
  });

  it("leaves out the control-plane scrapers, which create Services in kube-system", () => {
    for (const k of ["kubeApiServer", "kubeControllerManager", "kubeScheduler", "kubeProxy", "kubeEtcd", "coreDns", "kubeDns"]) expect(values[k].enabled, k).toBe(false);
    expect(values.thanosRuler.enabled).toBe(false);
    expect(values.windowsMonitoring.enabled).toBe(false);
  });
});

describe("kube-prometheus-stack values: what is watched", () => {
  it("watches only the environment's namespaces with the operator", () => {
    expect(values.prometheusOperator.namespaces).toEqual({ releaseNamespace: true, additional: ["shop-infra"] });
  });

  it("picks up the platform's monitors and rules, which carry no Helm release label, in both namespaces", () => {
    const spec = values.prometheus.prometheusSpec;
    const both = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["shop", "shop-infra"] }] };
    for (const kind of ["serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"]) {
      expect(spec[`${kind}SelectorNilUsesHelmValues`], kind).toBe(false);
      expect(spec[`${kind}Selector`], kind).toEqual({});
      expect(spec[`${kind}NamespaceSelector`], kind).toEqual(both);
    }
  });

  it("never installs the chart's CRDs: the cluster stack owns them", () => {
    expect(values.crds.enabled).toBe(false);
    expect((kubePrometheusStackValues(stackArgs({ installChart: false })) as any).crds.enabled).toBe(false);
  });

  it("runs kube-state-metrics per environment with namespaced Roles and no Secret or ConfigMap access", () => {
    const ksm = values["kube-state-metrics"];
    expect(values.kubeStateMetrics.enabled).toBe(true);
    expect(ksm.namespaces).toBe("shop,shop-infra");
    expect(ksm.rbac.useClusterRole).toBe(false);
    expect(ksm.collectors).toEqual(KUBE_STATE_METRICS_COLLECTORS);
    expect(ksm.collectors).not.toContain("secrets");
    expect(ksm.collectors).not.toContain("configmaps");
    expect(ksm.collectors).not.toContain("nodes");
  });

  it("keeps only the environment's series from the kubelets, after the chart's own drop rules", () => {
    const keep = [{ sourceLabels: ["namespace"], regex: "shop|shop-infra", action: "keep" }];
    const sm = values.kubelet.serviceMonitor;
    expect(sm.cAdvisorMetricRelabelings).toEqual([...KUBELET_CHART_RELABELINGS.cAdvisor, ...keep]);
    expect(sm.metricRelabelings).toEqual([...KUBELET_CHART_RELABELINGS.kubelet, ...keep]);
    expect(sm.probesMetricRelabelings).toEqual(keep);
    expect(KUBELET_CHART_RELABELINGS.cAdvisor).toHaveLength(8);
  });

  it("drops what the chart drops and keeps the environment's usage series (Prometheus's relabel semantics)", () => {
    /** Whether a sample survives the rules: source labels joined with ";", regexes anchored. */
    const survives = (rules: readonly { sourceLabels: readonly string[]; regex: string; action: string }[], labels: Record<string, string>) =>
      rules.every((r) => {
        const hit = new RegExp(`^(?:${r.regex})$`).test(r.sourceLabels.map((l) => labels[l] ?? "").join(";"));
        return r.action === "drop" ? !hit : hit;
      });
    const cadvisor = values.kubelet.serviceMonitor.cAdvisorMetricRelabelings;
    const ours = { namespace: "shop", pod: "web-1", id: "/kubepods/x" };
    expect(survives(cadvisor, { __name__: "container_cpu_usage_seconds_total", ...ours })).toBe(true);
    expect(survives(cadvisor, { __name__: "container_memory_working_set_bytes", ...ours })).toBe(true);
    expect(survives(cadvisor, { __name__: "container_cpu_load_average_10s", ...ours })).toBe(false);
    expect(survives(cadvisor, { __name__: "container_spec_cpu_quota", ...ours })).toBe(false);
    expect(survives(cadvisor, { __name__: "container_cpu_usage_seconds_total", namespace: "shop", id: "/system.slice" })).toBe(false);
    expect(survives(cadvisor, { __name__: "container_cpu_usage_seconds_total", ...ours, namespace: "other-tenant" })).toBe(false);
    const kubelet = values.kubelet.serviceMonitor.metricRelabelings;
    expect(survives(kubelet, { __name__: "kubelet_volume_stats_used_bytes", namespace: "shop-infra" })).toBe(true);
    expect(survives(kubelet, { __name__: "storage_operation_duration_seconds_bucket", le: "2.5", namespace: "shop" })).toBe(false);
  });

  it("puts the chart labels on the subcharts' objects and on the operator's pods, which commonLabels does not reach", () => {
    const labelled = kubePrometheusStackValues(stackArgs({ chartLabels: { "diaspomoney.fr/environment": "dev" } })) as any;
    const env = { "diaspomoney.fr/environment": "dev" };
    expect(labelled.commonLabels).toEqual(env);
    expect(labelled.grafana.extraLabels).toEqual(env);
    expect(labelled.grafana.podLabels).toEqual(env);
    expect(labelled["kube-state-metrics"].customLabels).toEqual(env);
    expect(labelled.prometheus.prometheusSpec.podMetadata).toEqual({ labels: env });
    expect(labelled.alertmanager.alertmanagerSpec.podMetadata).toEqual({ labels: env });
    expect(values.grafana.extraLabels).toEqual({});
  });

  it("sizes retention and storage from its arguments", () => {
    expect(values.prometheus.prometheusSpec.retention).toBe("15d");
    expect(values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe("50Gi");
    expect(values.alertmanager.alertmanagerSpec.replicas).toBe(2);
    expect(values.alertmanager.podDisruptionBudget.enabled).toBe(true);
  });

  it("runs one Prometheus by default, and spreads and budgets several", () => {
    expect(values.prometheus.prometheusSpec.replicas).toBe(1);
    expect(values.prometheus.podDisruptionBudget.enabled).toBe(false);
    expect(values.prometheus.prometheusSpec.podAntiAffinity).toBeUndefined();
    const ha = kubePrometheusStackValues(stackArgs({ prometheus: { replicas: 2, retention: "30d", storage: "200Gi" } })) as any;
    expect(ha.prometheus.prometheusSpec.replicas).toBe(2);
    expect(ha.prometheus.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(ha.prometheus.prometheusSpec.podAntiAffinity).toBe("soft");
    expect(ha.prometheus.prometheusSpec.podAntiAffinityTopologyKey).toBe("kubernetes.io/hostname");
  });
});

describe("kube-prometheus-stack values: Alertmanager and Grafana", () => {
  it("uses the AlertmanagerConfig as Alertmanager's whole configuration, merging no other", () => {
    const am = values.alertmanager.alertmanagerSpec;
    expect(am.alertmanagerConfiguration).toEqual({ name: "routing" });
    expect(am.alertmanagerConfigSelector.matchLabels).toBeDefined();
  });

  it("reads Grafana's admin login from a Secret, never from values", () => {
    expect(values.grafana.admin).toEqual({ existingSecret: "mon-test-grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
    expect(values.grafana.adminPassword).toBeUndefined();
    expect(JSON.stringify(values)).not.toMatch(/password"\s*:\s*"(?!admin-password)/i);
  });

  it("loads dashboards from ConfigMaps labelled grafana_dashboard=1 in its namespace", () => {
    expect(values.grafana.sidecar.dashboards).toMatchObject({ enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "shop" });
    expect(values.grafana.rbac.namespaced).toBe(true);
  });

  it("keeps Grafana from calling home", () => {
    expect(values.grafana["grafana.ini"].analytics).toEqual({ check_for_updates: false, check_for_plugin_updates: false, reporting_enabled: false });
  });
});

describe("NetworkPolicies of the stack", () => {
  const policies = monitoringNetworkPolicies(stackArgs()) as Record<string, any>;
  const ep = stackEndpoints("mon-test");
  const traefik = { podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } } };
  const portsOf = (rule: any) => rule.ports.map((p: any) => `${p.protocol}/${p.port}`);

  it("select the pods the chart and the operator label", () => {
    expect(policies.prometheus.podSelector.matchLabels).toEqual(ep.prometheus.podLabels);
    expect(policies.alertmanager.podSelector.matchLabels).toEqual(ep.alertmanager.podLabels);
    expect(policies.grafana.podSelector.matchLabels).toEqual(ep.grafana.podLabels);
    expect(policies.prometheus.podSelector.matchLabels["app.kubernetes.io/name"]).toBe("prometheus");
    for (const p of Object.values(policies)) expect(p.policyTypes).toEqual(["Ingress", "Egress"]);
  });

  it("let Traefik open the three UIs", () => {
    expect(policies.grafana.ingress[0].from).toContainEqual(traefik);
    expect(portsOf(policies.grafana.ingress[0])).toEqual(["TCP/3000"]);
    expect(policies.prometheus.ingress[0].from).toContainEqual(traefik);
    expect(policies.alertmanager.ingress[0].from).toContainEqual(traefik);
  });

  it("let Prometheus reach its scrape targets and Alertmanager, and nothing on the internet but kubelets", () => {
    const egress = policies.prometheus.egress;
    expect(egress).toContainEqual({ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "web" } } }], ports: [{ protocol: "TCP", port: 3000 }] });
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop-infra" } }, podSelector: { matchLabels: { redis_setup_type: "cluster" } } }],
      ports: [{ protocol: "TCP", port: 9121 }],
    });
    expect(egress).toContainEqual({ to: [{ podSelector: { matchLabels: ep.alertmanager.podLabels } }], ports: [{ protocol: "TCP", port: 9093 }, { protocol: "TCP", port: 8080 }] });
    const open = egress.filter((r: any) => r.to?.some((t: any) => t.ipBlock?.cidr === "0.0.0.0/0"));
    expect(open.map(portsOf)).toEqual([["TCP/10250"]]);
  });

  it("let Alertmanager out on the notification ports only, and its replicas gossip", () => {
    const egress = policies.alertmanager.egress;
    const open = egress.filter((r: any) => r.to?.some((t: any) => t.ipBlock));
    expect(open.map(portsOf)).toEqual([["TCP/443", "TCP/587"]]);
    expect(portsOf(egress[0])).toEqual(["TCP/9094", "UDP/9094"]);
  });

  it("let Grafana reach Prometheus, Alertmanager and the API server only", () => {
    expect(policies.grafana.egress).toEqual([
      { to: [{ podSelector: { matchLabels: ep.prometheus.podLabels } }], ports: [{ protocol: "TCP", port: 9090 }] },
      { to: [{ podSelector: { matchLabels: ep.alertmanager.podLabels } }], ports: [{ protocol: "TCP", port: 9093 }] },
      { to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] },
    ]);
  });

  it("let the operator and kube-state-metrics talk to the API server, and be scraped", () => {
    for (const name of ["operator", "kube-state-metrics"]) {
      expect(policies[name].egress).toEqual([{ to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] }]);
      expect(policies[name].ingress[0].from).toEqual([{ podSelector: { matchLabels: ep.prometheus.podLabels } }]);
    }
  });

  it("open the API ports to any address when the API server's addresses are unknown", () => {
    const open = monitoringNetworkPolicies(stackArgs({ network: { ...stackArgs().network, apiServer: { cni: "calico" } } })) as Record<string, any>;
    expect(open.operator.egress).toEqual([
      { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] },
    ]);
  });
});

describe("monitor specs", () => {
  it("write a ServiceMonitor endpoint with port, path and interval", () => {
    expect(monitorSpec({ name: "web", namespace: "shop", kind: "service", selector: { matchLabels: { a: "b" } }, port: "http", path: "/m", interval: "15s" })).toEqual({
      selector: { matchLabels: { a: "b" } },
      endpoints: [{ port: "http", path: "/m", interval: "15s" }],
    });
  });

  it("write a PodMonitor endpoint, and a namespace selector when asked", () => {
    expect(monitorSpec({ name: "x", namespace: "shop", kind: "pod", selector: {}, port: "metrics", honorLabels: true, selectNamespaces: ["other"] })).toEqual({
      selector: {},
      namespaceSelector: { matchNames: ["other"] },
      podMetricsEndpoints: [{ port: "metrics", path: "/metrics", honorLabels: true }],
    });
  });
});

describe("MonitoringStack", () => {
  it("creates the chart, a generated Grafana admin Secret and five NetworkPolicies, with no secret in the values", async () => {
    const plan = await planProgram("dev", async () => {
      new MonitoringStack("mon", stackArgs());
      new ScrapeTargets("scrape", { targets: [{ name: "web", namespace: "shop", kind: "service", selector: { matchLabels: { a: "b" } }, port: "http" }], labels: (n) => ({ "app.kubernetes.io/name": n }) });
      return {};
    });
    const [chart] = ofType(plan, "kubernetes:helm.sh/v4:Chart");
    expect(inputs(chart)).toMatchObject({ name: "mon-test", chart: "kube-prometheus-stack", version: "88.5.3", namespace: "shop", skipCrds: true });
    expect(inputs(chart).values.crds).toEqual({ enabled: false });
    expect(inputs(chart).repositoryOpts.repo).toBe("https://prometheus-community.github.io/helm-charts");

    const [password] = ofType(plan, "random:index/randomPassword:RandomPassword");
    const generated = computedState(password.type, password.name, password.inputs as Record<string, unknown>).result as string;
    expect(generated.length).toBe(32);
    expect(JSON.stringify(plan)).not.toContain(generated);

    const secret = ofType(plan, "kubernetes:core/v1:Secret").map(inputs).find((s) => s.metadata.name === "mon-test-grafana-admin");
    expect(secret.stringData).toEqual({ "admin-user": "[secret]", "admin-password": "[secret]" });
    expect(chart.dependsOn.some((u) => u.endsWith("Secret::mon-grafana-admin"))).toBe(true);
    expect(JSON.stringify(inputs(chart).values)).not.toContain("[secret]");

    expect(ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => inputs(r).metadata.name).sort()).toEqual([
      "monitoring-alertmanager",
      "monitoring-grafana",
      "monitoring-kube-state-metrics",
      "monitoring-operator",
      "monitoring-prometheus",
    ]);
    const [sm] = ofType(plan, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").map(inputs);
    expect(sm).toMatchObject({ apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "web", namespace: "shop" } });
  });
});
