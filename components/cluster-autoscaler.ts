import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SecureNamespace, type ContainerResources, type NamespaceBudget } from "./namespaces";
import { apiServerEgress, ciliumClusterAccess, PUBLIC_INTERNET, tcp, type ApiServerAccess } from "./network";
import type { Labeller, PinnedChart } from "./traefik";

/** Labels the chart puts on the autoscaler's pod (release `cluster-autoscaler`). */
export const CLUSTER_AUTOSCALER_POD_LABELS = { "app.kubernetes.io/instance": "cluster-autoscaler" } as const;

export interface NodeGroup {
  name: string;
  minSize: number;
  maxSize: number;
}

export interface ClusterAutoscalerArgs {
  namespace: string;
  labels: Labeller;
  chart: PinnedChart;
  cloudProvider: string;
  nodeGroups: NodeGroup[];
  scaleDownUtilizationThreshold: number;
  apiServer?: ApiServerAccess;
  /** Install the chart (false where the cluster's owners install it into the prepared namespace). */
  installChart: boolean;
  namespaceRetention?: Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete">;
}

const RESOURCES: ContainerResources = { requests: { cpu: "100m", memory: "300Mi" }, limits: { cpu: "500m", memory: "600Mi" } };

/** Two leader-elected replicas and a rolling update's surge pod. */
export const CLUSTER_AUTOSCALER_BUDGET: NamespaceBudget = {
  cpu: { requests: "500m", limits: "2" },
  memory: { requests: "1Gi", limits: "2Gi" },
  pods: 4,
  persistentVolumeClaims: 0,
  storage: "1Gi",
  containerDefaults: RESOURCES,
};

/** Chart values (kubernetes/autoscaler cluster-autoscaler chart). */
export function clusterAutoscalerValues(args: Pick<ClusterAutoscalerArgs, "cloudProvider" | "nodeGroups" | "scaleDownUtilizationThreshold">): Record<string, unknown> {
  return {
    fullnameOverride: "cluster-autoscaler",
    cloudProvider: args.cloudProvider,
    autoscalingGroups: args.nodeGroups.map((g) => ({ name: g.name, minSize: g.minSize, maxSize: g.maxSize })),
    replicaCount: 2,
    podDisruptionBudget: { maxUnavailable: 1 },
    resources: RESOURCES,
    extraArgs: {
      "logging-format": "json",
      expander: "least-waste",
      "balance-similar-node-groups": true,
      "scale-down-utilization-threshold": args.scaleDownUtilizationThreshold,
      // Databases and brokers keep their data on volumes, not on the node: their nodes may go.
      "skip-nodes-with-local-storage": false,
    },
    securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
    containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
  };
}

/**
 * The seed's node autoscaling: the Cluster Autoscaler from its official chart, in its own closed
 * namespace, calling only the API server and the cloud provider's API (public HTTPS).
 */
export class ClusterAutoscaler extends pulumi.ComponentResource {
  readonly chart?: k8s.helm.v4.Chart;

  constructor(name: string, args: ClusterAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:cluster:ClusterAutoscaler", name, {}, opts);
    const bad = args.nodeGroups.filter((g) => g.maxSize < g.minSize || g.minSize < 0).map((g) => g.name);
    if (bad.length) throw new Error(`Cluster Autoscaler node groups with maxSize below minSize: ${bad.join(", ")}`);
    const namespace = new SecureNamespace(
      args.namespace,
      { name: args.namespace, labels: args.labels(args.namespace), budget: CLUSTER_AUTOSCALER_BUDGET },
      { parent: this, ...args.namespaceRetention },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress`,
      {
        metadata: { name: "cluster-autoscaler", namespace: args.namespace, labels: args.labels("cluster-autoscaler") },
        spec: {
          podSelector: { matchLabels: { ...CLUSTER_AUTOSCALER_POD_LABELS } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [],
          egress: [...apiServerEgress(args.apiServer), { to: PUBLIC_INTERNET, ports: tcp(443) }],
        },
      },
      { parent: this, dependsOn: [namespace] },
    );
    ciliumClusterAccess(
      `${name}-cluster-access`,
      {
        metadata: { name: "cluster-autoscaler-cluster-access", namespace: args.namespace, labels: args.labels("cluster-autoscaler") },
        podSelector: { matchLabels: { ...CLUSTER_AUTOSCALER_POD_LABELS } },
        access: { apiServer: true },
        api: args.apiServer,
      },
      { parent: this, dependsOn: [namespace] },
    );
    if (args.installChart) {
      this.chart = new k8s.helm.v4.Chart(
        name,
        {
          name: "cluster-autoscaler",
          chart: args.chart.chart,
          version: args.chart.version,
          repositoryOpts: { repo: args.chart.repo },
          namespace: args.namespace,
          // The chart has no CRDs today; a future one would be the cluster's PlatformCrds' to own.
          skipCrds: true,
          values: clusterAutoscalerValues(args),
        },
        { parent: this, dependsOn: [namespace] },
      );
    }
    this.registerOutputs({ namespace: args.namespace, chartVersion: args.chart.version, nodeGroups: args.nodeGroups });
  }
}
