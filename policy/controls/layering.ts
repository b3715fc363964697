/**
 * Layering controls: what is cluster-wide (CRDs, cluster-scoped RBAC, cluster issuers) belongs to the
 * cluster stack, kept forever; an environment stack owns only what is in its namespaces, so that its
 * destroy or rename never takes another environment's objects with it.
 */
import { resourceControl, stackAnchor, stackControl, subjectOf, type Subject } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import { T } from "../lib/k8s";

const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";

/** Kinds that are cluster-scoped: one object for every environment of the cluster. */
const CLUSTER_SCOPED = [
  CRD,
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  "kubernetes:cert-manager.io/v1:ClusterIssuer",
  "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
  "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
  "kubernetes:storage.k8s.io/v1:StorageClass",
  "kubernetes:scheduling.k8s.io/v1:PriorityClass",
];

function definesCrds(s: Subject): boolean {
  // Offline, a ConfigFile is one resource; under the CLI, its CRDs are its children.
  return s.type === CRD || s.type === CONFIG_FILE;
}

export const crdsKeptByClusterStack = stackControl({
  name: "crds-kept-by-cluster-stack",
  description:
    "CustomResourceDefinitions belong to the cluster stack, each protected and kept on delete: deleting one deletes every object of its kind in the cluster, every environment's included.",
  severity: "critical",
  refs: [GDPR.resilience, PCI.changeControl, GDPR.restore],
  remediation: "Declare CRDs only in a cluster stack (components/crds.ts PlatformCrds), with protect: true and retainOnDelete: true; never let a chart install them (skipCrds: true).",
  settings: ["clusterLayer"],
  check: (resources, f, settings) => {
    const all = resources.map(subjectOf);
    const crds = all.filter(definesCrds);
    if (!settings.clusterLayer) {
      if (crds.length === 0) f.pass(stackAnchor(all), "CustomResourceDefinitions", "none");
      for (const s of crds) f.fail(s, "type", s.type, "an environment stack declares no CRD: the cluster stack owns them");
      return;
    }
    if (crds.length === 0) return { notApplicable: "the stack declares no CRD" };
    for (const s of crds) {
      f.expect(s.opts?.protect === true, s, "protect", s.opts?.protect ?? false, "a CRD is protected");
      if (s.opts && "retainOnDelete" in s.opts) f.expect(s.opts.retainOnDelete === true, s, "retainOnDelete", s.opts.retainOnDelete, "a CRD is kept on delete");
    }
  },
});

export const environmentStaysInItsNamespaces = stackControl({
  name: "environment-owns-nothing-cluster-wide",
  description:
    "An environment stack declares no cluster-scoped object but its own namespaces (no ClusterRole, ClusterRoleBinding, ClusterIssuer, webhook configuration or CRD): what the cluster's environments share is the cluster stack's.",
  severity: "high",
  refs: [PCI.leastPrivilege, GDPR.resilience, PCI.changeControl],
  remediation: "Move the object to the cluster stack (infra/cluster/) and read what it publishes through the cluster contract.",
  settings: ["clusterLayer"],
  check: (resources, f, settings) => {
    if (settings.clusterLayer) return { notApplicable: "a cluster stack owns what is cluster-wide" };
    const all = resources.map(subjectOf);
    const shared = all.filter((s) => CLUSTER_SCOPED.includes(s.type));
    if (shared.length === 0) f.pass(stackAnchor(all), "cluster-scoped objects", "only the environment's namespaces");
    for (const s of shared) f.fail(s, "type", s.type, "an environment stack owns nothing cluster-wide");
  },
});

export const chartsInstallNoCrds = resourceControl({
  name: "charts-install-no-crds",
  description:
    "No Helm chart installs CRDs: a helm.v3.Release never upgrades them, a helm.v4.Chart deletes them with itself; the cluster stack applies them from the pinned releases.",
  severity: "high",
  refs: [PCI.changeControl, PCI.patching, GDPR.resilience],
  remediation: "Set skipCrds: true on the Release or Chart (and turn the chart's templated CRDs off in its values).",
  appliesTo: [T.helmRelease, T.helmChart],
  check: (s, f) => {
    f.expect(s.props?.skipCrds === true, s, "skipCrds", s.props?.skipCrds ?? false, "charts install no CRDs (skipCrds: true)");
  },
});

export const layeringControls = [crdsKeptByClusterStack, environmentStaysInItsNamespaces, chartsInstallNoCrds];
