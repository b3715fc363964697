import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAutoscaler } from "../../components/cluster-autoscaler";
import { StrimziClusterRbac } from "../../components/cluster-rbac";
import { CertManager } from "../../components/cert-manager";
import { PlatformCrds } from "../../components/crds";
import { InternalCA } from "../../components/internal-ca";
import { apiServerAccess } from "../../components/network";
import { internalCaNames } from "../data";
import { CERT_MANAGER_NAMESPACE, chartLabels, PROMETHEUS_POD_LABELS } from "../edge";
import { namespaceNames, PART_OF, standardLabels } from "../naming";
import { charts, clusterCharts, crdReleases } from "../versions";
import { CONTRACT_SCHEMA, type ClusterContract } from "./contract";
import type { LoadedCluster } from "./load";

/** Namespace of the Cluster Autoscaler, where the cluster stack installs it. */
export const CLUSTER_AUTOSCALER_NAMESPACE = "cluster-autoscaler";

/** The Kubernetes provider both layers use: server-side apply, stable identity, mutable Secrets and ConfigMaps. */
export function kubernetesProviderArgs(k: { context: string; clusterIdentifier: string }): k8s.ProviderArgs {
  return {
    context: k.context,
    clusterIdentifier: k.clusterIdentifier,
    enableServerSideApply: true,
    deleteUnreachable: false,
    // A rotated Secret or changed ConfigMap is updated in place (the pods reading it roll through
    // their checksum annotations); immutable ones would be deleted and re-created under a fixed name,
    // which a protected object refuses.
    enableSecretMutable: true,
    enableConfigMapMutable: true,
  };
}

/**
 * One cluster's shared layer: every CRD the platform uses, cert-manager, each hosted environment's
 * internal CA issuer, the cluster-scoped RBAC of the environments' operators and the Cluster
 * Autoscaler. Environments read what it offers through its `contract` output.
 */
export class PlatformCluster extends pulumi.ComponentResource {
  readonly contract: ClusterContract;
  readonly outputs: Record<string, unknown>;

  constructor(loaded: LoadedCluster) {
    const { spec, config, stack } = loaded;
    super("diaspomoney:platform:Cluster", stack, {});
    const provider = new k8s.Provider("kubernetes", kubernetesProviderArgs(config.kubernetes), { parent: this });
    const opts = { parent: this, provider };
    const managed = config.services === "managed";
    const labels = (name: string, component = "cluster-services") => standardLabels(stack, name, component);
    const shared = spec.protectSharedResources ? { protect: true, retainOnDelete: true } : {};
    const apiServer = apiServerAccess(config.kubernetes);

    const crds = new PlatformCrds(
      "crds",
      { services: config.services, location: config.crds.directory ? { kind: "directory", directory: config.crds.directory } : { kind: "release" } },
      opts,
    );

    const certManager = new CertManager(
      "cert-manager",
      {
        namespace: CERT_MANAGER_NAMESPACE,
        labels: (name) => labels(name),
        chart: charts.certManager,
        replicas: spec.certManager.replicas,
        chartLabels: chartLabels(labels("cert-manager")),
        namespaceRetention: shared,
        apiServer,
        metricsScrapers: { namespaceLabels: { "app.kubernetes.io/part-of": PART_OF }, podLabels: { ...PROMETHEUS_POD_LABELS } },
        installChart: managed,
        after: [crds],
        awaitReadiness: config.kubernetes.awaitReadiness,
      },
      opts,
    );
    // Issuers and Certificates are admitted by cert-manager's webhook once it serves.
    const webhook: pulumi.Resource[] = [crds, ...(certManager.chart ? [certManager.chart] : [certManager.namespace])];

    const internalCa: ClusterContract["internalCa"] = {};
    for (const env of spec.environments) {
      const names = internalCaNames(env);
      const ca = new InternalCA(
        `internal-ca-${env}`,
        {
          name: names.ca,
          selfSignedIssuerName: names.selfSignedIssuer,
          namespace: CERT_MANAGER_NAMESPACE,
          labels: (name) => standardLabels(env, name, "internal-ca"),
          commonName: `DiaspoMoney ${env} internal CA`,
          organizations: ["DiaspoMoney"],
          // Replacing a CA would make every client of the environment distrust every server at once.
          retention: shared,
          after: webhook,
          awaitReadiness: config.kubernetes.awaitReadiness,
        },
        opts,
      );
      internalCa[env] = { issuer: ca.issuerRef.name, caSecret: { namespace: CERT_MANAGER_NAMESPACE, name: ca.secretName } };
    }

    if (managed) {
      new StrimziClusterRbac(
        "strimzi-rbac",
        { release: crdReleases.strimzi, operatorNamespaces: spec.environments.map((e) => namespaceNames(e).infra), labels: (name) => labels(name, "operator") },
        { ...opts, dependsOn: [crds] },
      );
    }

    const autoscaler = config.autoscaler;
    if (autoscaler.mode === "chart") {
      new ClusterAutoscaler(
        "cluster-autoscaler",
        {
          namespace: CLUSTER_AUTOSCALER_NAMESPACE,
          labels: (name) => labels(name, "autoscaling"),
          chart: clusterCharts.clusterAutoscaler,
          cloudProvider: autoscaler.cloudProvider,
          nodeGroups: autoscaler.nodeGroups,
          scaleDownUtilizationThreshold: autoscaler.scaleDownUtilizationThreshold,
          apiServer,
          installChart: managed,
          namespaceRetention: shared,
        },
        opts,
      );
    }

    this.contract = {
      schema: CONTRACT_SCHEMA,
      stack,
      clusterIdentifier: config.kubernetes.clusterIdentifier,
      environments: [...spec.environments],
      services: config.services,
      cni: config.kubernetes.cni,
      crds: crds.versions,
      certManager: { namespace: CERT_MANAGER_NAMESPACE },
      internalCa,
    };
    this.outputs = {
      contract: this.contract,
      cluster: {
        name: stack,
        tier: spec.tier,
        services: config.services,
        crdSource: config.crds.directory ? "directory" : "release",
        crdFiles: Object.keys(crds.files),
        autoscaler: autoscaler.mode === "chart" ? { mode: "chart", chart: clusterCharts.clusterAutoscaler.version, nodeGroups: autoscaler.nodeGroups } : { mode: autoscaler.mode },
        certManager: { namespace: CERT_MANAGER_NAMESPACE, chart: managed ? charts.certManager.version : "external" },
      },
    };
    this.registerOutputs(this.outputs);
  }
}
