import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ContainerResources } from "./namespaces";
import { helmChartAwait } from "./lifecycle";
import { apiServerEgress, ciliumClusterAccess, nodeEgress, tcp, type ApiServerAccess, type ClusterAccess } from "./network";

/**
 * kube-prometheus-stack in a namespace that enforces Pod Security `restricted`: Prometheus,
 * Alertmanager, Grafana, the Prometheus operator and a namespaced kube-state-metrics, with the
 * NetworkPolicies of every pod it runs, and the ServiceMonitors / PodMonitors that tell Prometheus
 * what to scrape.
 *
 * Decisions (details in docs/observability.md):
 * - `helm.v4.Chart`, which renders every object as its own Pulumi resource (visible in preview and
 *   diff) but does not run Helm hooks. The chart's admission webhook relies on hook Jobs to create
 *   its certificate and patch the webhook configurations; without them the webhook would reject
 *   every PrometheusRule and the operator would wait forever for the certificate Secret. So the
 *   webhook and the operator's TLS listener (which needs that certificate) are off; rules are
 *   validated before deployment instead (every expression is parsed in the tests).
 * - node-exporter needs the host's network, PIDs and paths: impossible under `restricted`. It is
 *   off; node metrics belong to a cluster-level monitoring namespace.
 * - kube-state-metrics runs per environment, reading only the environment's namespaces with
 *   namespaced Roles: no ClusterRole, no metrics of another environment.
 * - The operator watches only the environment's namespaces; CRDs are installed only where asked.
 */

/** Pinned chart: see infra/versions.ts. */
export interface PinnedChart {
  chart: string;
  repo: string;
  version: string;
}

/** Pods a NetworkPolicy names: labels, and the namespace when it is not the stack's own. */
export interface ScrapePeer {
  namespace?: string;
  podLabels: Record<string, string>;
  ports: number[];
}

export interface MonitoringStackArgs {
  /** Namespace of the stack (and of Grafana's dashboards and the Alertmanager configuration). */
  namespace: string;
  /**
   * Other namespaces whose ServiceMonitors, PodMonitors and PrometheusRules Prometheus reads, and
   * whose objects kube-state-metrics reports on.
   */
  watchedNamespaces: string[];
  /**
   * Helm release name, used as the stack's name prefix. Cluster-scoped objects (the operator's and
   * Prometheus's ClusterRoles) carry it: it must be unique in the cluster.
   */
  releaseName: string;
  chart: PinnedChart;
  /**
   * Install the chart. False where the cluster's owners install kube-prometheus-stack themselves
   * (same chart and release name) into this namespace. The CRDs are never the chart's: the cluster
   * stack owns them.
   */
  installChart: boolean;
  /** Labels of an object this component creates (standard labels of the platform). */
  labels: (name: string, component?: string) => Record<string, string>;
  /** Labels added to every object the chart renders (must not include keys the chart sets itself). */
  chartLabels?: Record<string, string>;
  /** Labels Prometheus adds to every series and alert it sends out. */
  externalLabels?: Record<string, string>;
  prometheus: {
    /** Prometheus servers, each scraping everything (Alertmanager deduplicates their alerts). Default 1. */
    replicas?: number;
    retention: string;
    /** Size of the persistent volume holding the TSDB. */
    storage: string;
    /** Public URL (links in alerts). */
    externalUrl?: string;
    /** Default: 500m / 2Gi requested, 2 CPU / 4Gi limit. */
    resources?: ContainerResources;
  };
  alertmanager: {
    replicas: number;
    externalUrl?: string;
    /** AlertmanagerConfig (same namespace) used as the whole Alertmanager configuration. */
    configName: string;
    /** Volume for silences and the notification log. Default 1Gi. */
    storage?: string;
  };
  grafana: {
    replicas: number;
    /** Public URL (`server.root_url`). */
    rootUrl?: string;
    /** Admin login. Default `admin`. */
    adminUser?: string;
  };
  network: {
    /** Pods of the stack's namespace allowed to open the UIs (the reverse proxy). */
    uiClients: Record<string, string>;
    /** What Prometheus scrapes besides the stack itself and the kubelets. */
    scrapeTargets: ScrapePeer[];
    /** The Kubernetes API: addresses when known, ports (default 443 and 6443). */
    apiServer: ApiServerAccess;
    /** Ports Alertmanager sends notifications to (HTTPS for Slack and PagerDuty, SMTP). */
    notificationPorts: number[];
  };
  /** Make `pulumi up` wait for every object the chart renders (see `helmChartAwait`). Default true. */
  awaitReadiness?: boolean;
}

/**
 * Containers of the stack's pods, for the namespace's quota (infra/sizing.ts). Prometheus and
 * Alertmanager pods also run the operator's config reloader (and an init copy of it); Grafana runs
 * two sidecars (dashboards, datasources); the operator and kube-state-metrics one container each.
 */
export const MONITORING_RESOURCES = {
  prometheus: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
  configReloader: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  alertmanager: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
  grafana: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  /** Grafana's sidecars, the operator and kube-state-metrics. */
  small: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
} as const satisfies Record<string, ContainerResources>;
/** Alertmanager's volume (silences, notification log) unless the caller sizes it. */
export const ALERTMANAGER_STORAGE = "1Gi";

/** Where each UI of the stack listens: Service, Service port, container port and pod labels. */
export interface StackEndpoint {
  service: string;
  port: number;
  targetPort: number;
  podLabels: Record<string, string>;
}

const KUBELET_PORT = 10250;
const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};
const restrictedPod = (uid: number, gid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: gid,
  fsGroup: gid,
  seccompProfile: { type: "RuntimeDefault" },
});
const GRAFANA_ADMIN_KEYS = { user: "admin-user", password: "admin-password" } as const;

/**
 * Pod labels, Services and ports of the stack's pods, as the chart and the operator name them for
 * `release` (fullnameOverride = release; Prometheus and Alertmanager are `<release>-prometheus`
 * and `<release>-alertmanager`, and the operator labels their pods with those names).
 */
export function stackEndpoints(release: string) {
  return {
    prometheus: {
      service: `${release}-prometheus`,
      port: 9090,
      targetPort: 9090,
      podLabels: { "app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": `${release}-prometheus` },
    },
    alertmanager: {
      service: `${release}-alertmanager`,
      port: 9093,
      targetPort: 9093,
      podLabels: { "app.kubernetes.io/name": "alertmanager", alertmanager: `${release}-alertmanager` },
    },
    grafana: {
      service: `${release}-grafana`,
      port: 80,
      targetPort: 3000,
      podLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": release },
    },
    operator: {
      service: `${release}-operator`,
      port: 8080,
      targetPort: 8080,
      podLabels: { app: "kube-prometheus-stack-operator", release },
    },
    kubeStateMetrics: {
      service: `${release}-kube-state-metrics`,
      port: 8080,
      targetPort: 8080,
      podLabels: { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": release },
    },
  } satisfies Record<string, StackEndpoint>;
}

/** Name of the Secret holding Grafana's admin login, for `release`. */
export function grafanaAdminSecretName(release: string): string {
  return `${release}-grafana-admin`;
}

/** Resources of namespaced objects kube-state-metrics reports on (no Secrets, no ConfigMaps). */
export const KUBE_STATE_METRICS_COLLECTORS = [
  "cronjobs",
  "daemonsets",
  "deployments",
  "horizontalpodautoscalers",
  "jobs",
  "limitranges",
  "persistentvolumeclaims",
  "poddisruptionbudgets",
  "pods",
  "replicasets",
  "resourcequotas",
  "services",
  "statefulsets",
];

/**
 * The chart's own default metric relabelings of the kubelet endpoints (kube-prometheus-stack
 * values.yaml, `kubelet.serviceMonitor`): they drop high-cardinality series nobody graphs. Setting
 * `cAdvisorMetricRelabelings` or `metricRelabelings` replaces the chart's list rather than extending
 * it, so ours repeat them before adding their own rules.
 */
export const KUBELET_CHART_RELABELINGS = {
  cAdvisor: [
    { sourceLabels: ["__name__"], action: "drop", regex: "container_cpu_(cfs_throttled_seconds_total|load_average_10s|system_seconds_total|user_seconds_total)" },
    {
      sourceLabels: ["__name__"],
      action: "drop",
      regex: "container_fs_(io_current|io_time_seconds_total|io_time_weighted_seconds_total|reads_merged_total|sector_reads_total|sector_writes_total|writes_merged_total)",
    },
    { sourceLabels: ["__name__"], action: "drop", regex: "container_memory_(mapped_file|swap)" },
    { sourceLabels: ["__name__"], action: "drop", regex: "container_(file_descriptors|tasks_state|threads_max)" },
    { sourceLabels: ["__name__", "scope"], action: "drop", regex: "container_memory_failures_total;hierarchy" },
    { sourceLabels: ["__name__", "interface"], action: "drop", regex: "container_network_.*;(cali|cilium|cni|lxc|nodelocaldns|tunl).*" },
    { sourceLabels: ["__name__"], action: "drop", regex: "container_spec.*" },
    { sourceLabels: ["id", "pod"], action: "drop", regex: ".+;" },
  ],
  kubelet: [
    { action: "drop", sourceLabels: ["__name__", "le"], regex: "(csi_operations|storage_operation_duration)_seconds_bucket;(0.25|2.5|15|25|120|600)(\\.0)?" },
  ],
  probes: [],
} as const;

/**
 * Chart values. Nothing secret: Grafana's admin login is a Secret the chart only references, and
 * receivers' credentials live in the AlertmanagerConfig's Secret.
 */
export function kubePrometheusStackValues(args: MonitoringStackArgs): Record<string, unknown> {
  const release = args.releaseName;
  const prometheusReplicas = args.prometheus.replicas ?? 1;
  const ep = stackEndpoints(release);
  const namespaces = [args.namespace, ...args.watchedNamespaces];
  const inOurNamespaces = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: namespaces }] };
  const keepOurNamespaces = [{ sourceLabels: ["namespace"], regex: namespaces.join("|"), action: "keep" }];
  const prometheusResources = args.prometheus.resources ?? MONITORING_RESOURCES.prometheus;
  const small = MONITORING_RESOURCES.small;
  const volume = (size: string) => ({ volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } } } });
  // A selector nothing carries: Alertmanager's whole configuration is the one AlertmanagerConfig
  // named in `alertmanagerConfiguration`, never merged with others.
  const noOtherAlertmanagerConfigs = { matchLabels: { "diaspomoney.fr/alertmanager-config": "merged" } };
  const chartLabels = args.chartLabels ?? {};

  return {
    fullnameOverride: release,
    commonLabels: chartLabels,
    crds: { enabled: false },
    windowsMonitoring: { enabled: false },

    defaultRules: {
      create: true,
      appNamespacesTarget: namespaces.join("|"),
      // Rules about the control plane and nodes belong to whoever monitors the cluster.
      rules: {
        etcd: false,
        kubeApiserverAvailability: false,
        kubeApiserverBurnrate: false,
        kubeApiserverHistogram: false,
        kubeApiserverSlos: false,
        kubeControllerManager: false,
        kubelet: false,
        kubeProxy: false,
        kubePrometheusNodeRecording: false,
        kubeSchedulerAlerting: false,
        kubeSchedulerRecording: false,
        kubernetesSystem: false,
        network: false,
        node: false,
        nodeExporterAlerting: false,
        nodeExporterRecording: false,
        windows: false,
      },
    },

    // Control-plane scrapers create Services in kube-system: a cluster-level concern, off here.
    kubeApiServer: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeProxy: { enabled: false },
    kubeEtcd: { enabled: false },
    coreDns: { enabled: false },
    kubeDns: { enabled: false },
    // cAdvisor (CPU, memory) and volume statistics come from the kubelets; only series of the
    // environment's namespaces are kept, other tenants' stay out of this Prometheus. The chart's own
    // drop rules come first: overriding a list replaces it.
    kubelet: {
      enabled: true,
      serviceMonitor: {
        cAdvisorMetricRelabelings: [...KUBELET_CHART_RELABELINGS.cAdvisor, ...keepOurNamespaces],
        metricRelabelings: [...KUBELET_CHART_RELABELINGS.kubelet, ...keepOurNamespaces],
        probesMetricRelabelings: [...KUBELET_CHART_RELABELINGS.probes, ...keepOurNamespaces],
      },
    },

    nodeExporter: { enabled: false },

    kubeStateMetrics: { enabled: true },
    "kube-state-metrics": {
      fullnameOverride: ep.kubeStateMetrics.service,
      // A subchart: `commonLabels` above never reaches it; its objects and pods take `customLabels`.
      customLabels: chartLabels,
      namespaces: namespaces.join(","),
      rbac: { create: true, useClusterRole: false },
      collectors: KUBE_STATE_METRICS_COLLECTORS,
      securityContext: { enabled: true, ...restrictedPod(65534, 65534) },
      containerSecurityContext: RESTRICTED_CONTAINER,
      resources: small,
      prometheus: { monitor: { enabled: true, honorLabels: true } },
      selfMonitor: { enabled: false },
    },

    prometheusOperator: {
      enabled: true,
      namespaces: { releaseNamespace: true, additional: args.watchedNamespaces },
      admissionWebhooks: { enabled: false, patch: { enabled: false }, certManager: { enabled: false } },
      tls: { enabled: false },
      networkPolicy: { enabled: false },
      securityContext: restrictedPod(65534, 65534),
      containerSecurityContext: RESTRICTED_CONTAINER,
      resources: small,
      prometheusConfigReloader: { resources: MONITORING_RESOURCES.configReloader },
    },

    prometheus: {
      enabled: true,
      networkPolicy: { enabled: false },
      podDisruptionBudget: { enabled: prometheusReplicas > 1, minAvailable: 1 },
      prometheusSpec: {
        replicas: prometheusReplicas,
        // Replicas on different nodes (the chart's preset), so one node loss leaves alerting running.
        ...(prometheusReplicas > 1 ? { podAntiAffinity: "soft", podAntiAffinityTopologyKey: "kubernetes.io/hostname" } : {}),
        retention: args.prometheus.retention,
        storageSpec: volume(args.prometheus.storage),
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        walCompression: true,
        enableAdminAPI: false,
        ...(args.prometheus.externalUrl ? { externalUrl: args.prometheus.externalUrl } : {}),
        externalLabels: args.externalLabels ?? {},
        // The platform's monitors and rules carry no Helm release label: select them all, in the
        // environment's namespaces only.
        serviceMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorSelector: {},
        serviceMonitorNamespaceSelector: inOurNamespaces,
        podMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelector: {},
        podMonitorNamespaceSelector: inOurNamespaces,
        ruleSelectorNilUsesHelmValues: false,
        ruleSelector: {},
        ruleNamespaceSelector: inOurNamespaces,
        probeSelectorNilUsesHelmValues: false,
        probeSelector: {},
        probeNamespaceSelector: inOurNamespaces,
        scrapeConfigSelectorNilUsesHelmValues: false,
        scrapeConfigSelector: {},
        scrapeConfigNamespaceSelector: inOurNamespaces,
        securityContext: restrictedPod(1000, 2000),
        resources: prometheusResources,
        // The operator builds the pods: `commonLabels` reaches the Prometheus object, not them.
        podMetadata: { labels: chartLabels },
      },
    },

    alertmanager: {
      enabled: true,
      podDisruptionBudget: { enabled: args.alertmanager.replicas > 1, minAvailable: 1 },
      alertmanagerSpec: {
        replicas: args.alertmanager.replicas,
        ...(args.alertmanager.externalUrl ? { externalUrl: args.alertmanager.externalUrl } : {}),
        alertmanagerConfiguration: { name: args.alertmanager.configName },
        // Replicas on different nodes (the chart's preset), and across zones where the cluster has them.
        podAntiAffinity: "soft",
        podAntiAffinityTopologyKey: "kubernetes.io/hostname",
        alertmanagerConfigSelector: noOtherAlertmanagerConfigs,
        storage: volume(args.alertmanager.storage ?? ALERTMANAGER_STORAGE),
        securityContext: restrictedPod(1000, 2000),
        resources: MONITORING_RESOURCES.alertmanager,
        podMetadata: { labels: chartLabels },
      },
    },

    grafana: {
      enabled: true,
      fullnameOverride: ep.grafana.service,
      // A subchart: its objects take `extraLabels`, its pods `podLabels`.
      extraLabels: chartLabels,
      podLabels: chartLabels,
      replicas: args.grafana.replicas,
      podDisruptionBudget: args.grafana.replicas > 1 ? { minAvailable: 1 } : {},
      topologySpreadConstraints:
        args.grafana.replicas > 1
          ? ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
              maxSkew: 1,
              topologyKey,
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": release } },
            }))
          : [],
      admin: { existingSecret: grafanaAdminSecretName(release), userKey: GRAFANA_ADMIN_KEYS.user, passwordKey: GRAFANA_ADMIN_KEYS.password },
      // No volume: every dashboard and datasource is provisioned, and the chart's volume ownership
      // fix-up (init-chown-data) runs as root, which `restricted` rejects.
      persistence: { enabled: false },
      initChownData: { enabled: false },
      testFramework: { enabled: false },
      rbac: { create: true, namespaced: true, pspEnabled: false },
      securityContext: restrictedPod(472, 472),
      containerSecurityContext: { ...RESTRICTED_CONTAINER, privileged: false },
      resources: MONITORING_RESOURCES.grafana,
      sidecar: {
        securityContext: RESTRICTED_CONTAINER,
        resources: small,
        dashboards: {
          enabled: true,
          label: "grafana_dashboard",
          labelValue: "1",
          searchNamespace: args.namespace,
          resource: "configmap",
          provider: { allowUiUpdates: false },
        },
        datasources: { enabled: true },
      },
      "grafana.ini": {
        ...(args.grafana.rootUrl ? { server: { root_url: args.grafana.rootUrl } } : {}),
        // No call home: Grafana's egress is Prometheus and Alertmanager only.
        analytics: { check_for_updates: false, check_for_plugin_updates: false, reporting_enabled: false },
        news: { news_feed_enabled: false },
        users: { allow_sign_up: false },
        "auth.anonymous": { enabled: false },
        security: { cookie_secure: true, disable_gravatar: true },
      },
      serviceMonitor: { enabled: true },
    },

    thanosRuler: { enabled: false },
  };
}


function peerOf(p: { namespace?: string; podLabels: Record<string, string> }): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return {
    ...(p.namespace ? { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } } } : {}),
    podSelector: { matchLabels: p.podLabels },
  };
}

/**
 * What the stack's pods need of the cluster itself, by policy name of {@link monitoringNetworkPolicies}:
 * on Cilium, the companion CiliumNetworkPolicies of its `apiServerEgress` and `nodeEgress` rules.
 */
export function monitoringClusterAccess(args: MonitoringStackArgs): Record<string, { podSelector: { matchLabels: Record<string, string> }; access: ClusterAccess }> {
  const ep = stackEndpoints(args.releaseName);
  const of = (podLabels: Record<string, string>, access: ClusterAccess) => ({ podSelector: { matchLabels: podLabels }, access });
  return {
    prometheus: of(ep.prometheus.podLabels, { apiServer: true, nodePorts: [KUBELET_PORT] }),
    grafana: of(ep.grafana.podLabels, { apiServer: true }),
    operator: of(ep.operator.podLabels, { apiServer: true }),
    "kube-state-metrics": of(ep.kubeStateMetrics.podLabels, { apiServer: true }),
  };
}

/** The NetworkPolicies of the stack's pods, as plain specs (name → spec). */
export function monitoringNetworkPolicies(args: MonitoringStackArgs): Record<string, k8s.types.input.networking.v1.NetworkPolicySpec> {
  const ep = stackEndpoints(args.releaseName);
  const n = args.network;
  const ui = { podSelector: { matchLabels: n.uiClients } };
  const pod = (labels: Record<string, string>) => ({ podSelector: { matchLabels: labels } });
  const anywhere = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];
  const RELOADER = 8080;
  const MESH = 9094;

  return {
    prometheus: {
      podSelector: { matchLabels: ep.prometheus.podLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [ui, pod(ep.grafana.podLabels)], ports: tcp(ep.prometheus.targetPort) },
        // Prometheus scrapes itself and its config reloader.
        { from: [pod(ep.prometheus.podLabels)], ports: tcp(ep.prometheus.targetPort, RELOADER) },
      ],
      egress: [
        { to: [pod(ep.prometheus.podLabels)], ports: tcp(ep.prometheus.targetPort, RELOADER) },
        { to: [pod(ep.alertmanager.podLabels)], ports: tcp(ep.alertmanager.targetPort, RELOADER) },
        { to: [pod(ep.grafana.podLabels)], ports: tcp(ep.grafana.targetPort) },
        { to: [pod(ep.operator.podLabels)], ports: tcp(ep.operator.targetPort) },
        { to: [pod(ep.kubeStateMetrics.podLabels)], ports: tcp(ep.kubeStateMetrics.targetPort) },
        ...n.scrapeTargets.map((t) => ({ to: [peerOf(t)], ports: tcp(...t.ports) })),
        // Kubelets listen on the nodes' addresses, which no pod selector matches.
        ...nodeEgress(n.apiServer, [KUBELET_PORT]),
        ...apiServerEgress(n.apiServer),
      ],
    },
    alertmanager: {
      podSelector: { matchLabels: ep.alertmanager.podLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [ui, pod(ep.prometheus.podLabels), pod(ep.grafana.podLabels)], ports: tcp(ep.alertmanager.targetPort) },
        { from: [pod(ep.prometheus.podLabels)], ports: tcp(RELOADER) },
        // Replicas gossip silences and notification state.
        { from: [pod(ep.alertmanager.podLabels)], ports: [...tcp(MESH), { protocol: "UDP", port: MESH }] },
      ],
      egress: [
        { to: [pod(ep.alertmanager.podLabels)], ports: [...tcp(MESH), { protocol: "UDP", port: MESH }] },
        // Slack, PagerDuty and the SMTP relay are outside the cluster, on their ports only.
        { to: anywhere, ports: tcp(...n.notificationPorts) },
      ],
    },
    grafana: {
      podSelector: { matchLabels: ep.grafana.podLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [ui, pod(ep.prometheus.podLabels)], ports: tcp(ep.grafana.targetPort) }],
      egress: [
        { to: [pod(ep.prometheus.podLabels)], ports: tcp(ep.prometheus.targetPort) },
        { to: [pod(ep.alertmanager.podLabels)], ports: tcp(ep.alertmanager.targetPort) },
        // The sidecars watch ConfigMaps (dashboards, datasources).
        ...apiServerEgress(n.apiServer),
      ],
    },
    operator: {
      podSelector: { matchLabels: ep.operator.podLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [pod(ep.prometheus.podLabels)], ports: tcp(ep.operator.targetPort) }],
      egress: [...apiServerEgress(n.apiServer)],
    },
    "kube-state-metrics": {
      podSelector: { matchLabels: ep.kubeStateMetrics.podLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [pod(ep.prometheus.podLabels)], ports: tcp(ep.kubeStateMetrics.targetPort) }],
      egress: [...apiServerEgress(n.apiServer)],
    },
  };
}

/**
 * The monitoring stack: Grafana's generated admin login, the chart, and the NetworkPolicies of its
 * pods. Its `endpoints` are what a reverse proxy routes to.
 */
export class MonitoringStack extends pulumi.ComponentResource {
  readonly chart?: k8s.helm.v4.Chart;
  readonly endpoints: ReturnType<typeof stackEndpoints>;
  readonly grafanaAdminSecret: k8s.core.v1.Secret;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:observability:MonitoringStack", name, {}, opts);
    this.endpoints = stackEndpoints(args.releaseName);
    const meta = (objectName: string, component?: string) => ({ name: objectName, namespace: args.namespace, labels: args.labels(objectName, component) });

    // Children do not inherit a component's dependencies: those that name the namespace wait for
    // what the stack waits for (the namespaces), the chart waits for them in turn.
    const inNamespace = { parent: this, dependsOn: opts?.dependsOn };
    const password = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent: this });
    const adminSecretName = grafanaAdminSecretName(args.releaseName);
    this.grafanaAdminSecret = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: meta(adminSecretName, "grafana"),
        type: "Opaque",
        stringData: pulumi.secret({ [GRAFANA_ADMIN_KEYS.user]: args.grafana.adminUser ?? "admin", [GRAFANA_ADMIN_KEYS.password]: password.result }),
      },
      inNamespace,
    );

    this.chart = args.installChart
      ? new k8s.helm.v4.Chart(
          name,
          {
            name: args.releaseName,
            chart: args.chart.chart,
            version: args.chart.version,
            repositoryOpts: { repo: args.chart.repo },
            namespace: args.namespace,
            skipCrds: true,
            ...helmChartAwait(args.awaitReadiness),
            values: kubePrometheusStackValues(args),
          },
          { parent: this, dependsOn: [this.grafanaAdminSecret] },
        )
      : undefined;

    for (const [policy, spec] of Object.entries(monitoringNetworkPolicies(args))) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: meta(`monitoring-${policy}`, "monitoring"), spec }, inNamespace);
    }
    for (const [policy, access] of Object.entries(monitoringClusterAccess(args))) {
      const metadata = meta(`monitoring-${policy}-cluster-access`, "monitoring");
      ciliumClusterAccess(`${name}-${policy}-cluster-access`, { metadata, podSelector: access.podSelector, access: access.access, api: args.network.apiServer }, inNamespace);
    }

    this.registerOutputs({
      release: args.releaseName,
      chartVersion: args.chart.version,
      chartInstalled: args.installChart,
      watchedNamespaces: [args.namespace, ...args.watchedNamespaces],
      endpoints: this.endpoints,
      grafanaAdminSecret: adminSecretName,
      retention: args.prometheus.retention,
      storage: args.prometheus.storage,
    });
  }
}

/** One scrape target, at the level of intent: which pods or Services, which port, which path. */
export interface ScrapeTarget {
  /** Object name of the monitor. */
  name: string;
  /** Namespace the monitor lives in (and whose pods or Services it selects). */
  namespace: pulumi.Input<string>;
  /** `service`: a ServiceMonitor selecting Services; `pod`: a PodMonitor selecting pods. */
  kind: "service" | "pod";
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[] };
  /** Port name (Service port for `service`, container port for `pod`). */
  port: string;
  /** Default `/metrics`. */
  path?: string;
  /** Default: Prometheus's (30s). */
  interval?: string;
  /** Keep the target's own labels (e.g. `namespace` of the objects an exporter reports on). */
  honorLabels?: boolean;
  /** Select in these namespaces rather than the monitor's own. */
  selectNamespaces?: string[];
  relabelings?: Record<string, unknown>[];
}

/** The ServiceMonitor or PodMonitor spec of a target. */
export function monitorSpec(t: ScrapeTarget): Record<string, unknown> {
  const endpoint = {
    port: t.port,
    path: t.path ?? "/metrics",
    ...(t.interval ? { interval: t.interval } : {}),
    ...(t.honorLabels ? { honorLabels: true } : {}),
    ...(t.relabelings ? { relabelings: t.relabelings } : {}),
  };
  return {
    selector: t.selector,
    ...(t.selectNamespaces ? { namespaceSelector: { matchNames: t.selectNamespaces } } : {}),
    ...(t.kind === "service" ? { endpoints: [endpoint] } : { podMetricsEndpoints: [endpoint] }),
  };
}

export interface ScrapeTargetsArgs {
  targets: ScrapeTarget[];
  labels: (name: string, component?: string) => Record<string, string>;
}

/** ServiceMonitors and PodMonitors for the platform's own workloads. */
export class ScrapeTargets extends pulumi.ComponentResource {
  constructor(name: string, args: ScrapeTargetsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:observability:ScrapeTargets", name, {}, opts);
    // Children do not inherit the component's dependencies (the CRDs' chart): pass them on.
    const child = { parent: this, dependsOn: opts?.dependsOn };
    for (const t of args.targets) {
      new k8s.apiextensions.CustomResource(
        `${name}-${t.name}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: t.kind === "service" ? "ServiceMonitor" : "PodMonitor",
          metadata: { name: t.name, namespace: t.namespace, labels: args.labels(t.name, "monitoring") },
          spec: monitorSpec(t),
        },
        child,
      );
    }
    this.registerOutputs({ monitors: args.targets.map((t) => ({ name: t.name, kind: t.kind === "service" ? "ServiceMonitor" : "PodMonitor", port: t.port, path: t.path ?? "/metrics" })) });
  }
}
