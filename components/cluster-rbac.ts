import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { keepForever } from "./crds";

/**
 * Strimzi's ClusterRoles, from its release's install files. The operator chart of each environment
 * runs with `createGlobalResources: false` (its namespaced RoleBindings only): the ClusterRoles, and
 * each environment's cluster-wide bindings to them, belong to the cluster stack, so a destroy of one
 * environment leaves the others' operators their rights.
 */
export const STRIMZI_CLUSTER_ROLE_FILES = [
  "020-ClusterRole-strimzi-cluster-operator-role.yaml",
  "021-ClusterRole-strimzi-cluster-operator-role.yaml",
  "022-ClusterRole-strimzi-cluster-operator-role.yaml",
  "023-ClusterRole-strimzi-cluster-operator-role.yaml",
  "030-ClusterRole-strimzi-kafka-broker.yaml",
  "031-ClusterRole-strimzi-entity-operator.yaml",
  "033-ClusterRole-strimzi-kafka-client.yaml",
] as const;

/** ClusterRoles an environment's operator is bound to cluster-wide (the rest it gets per namespace). */
export const STRIMZI_CLUSTER_BINDINGS = [
  // Nodes and cluster-scoped objects the operator reads; the ClusterRoleBinding it creates per cluster.
  ["global", "strimzi-cluster-operator-global"],
  // Rack awareness: the brokers' init container reads node labels, a right the operator delegates.
  ["kafka-broker-delegation", "strimzi-kafka-broker"],
] as const;

/** Name of environment namespace `namespace`'s binding `suffix`: one per operator installation. */
export function strimziBindingName(suffix: string, namespace: string): string {
  return `strimzi-cluster-operator-${suffix}-${namespace}`;
}

export interface StrimziClusterRbacArgs {
  /** Strimzi release (tag) whose install files hold the ClusterRoles. */
  release: string;
  /** Infra namespaces whose Strimzi operator (service account `strimzi-cluster-operator`) is bound. */
  operatorNamespaces: string[];
  labels: (name: string) => Record<string, string>;
}

export class StrimziClusterRbac extends pulumi.ComponentResource {
  readonly bindings: k8s.rbac.v1.ClusterRoleBinding[];

  constructor(name: string, args: StrimziClusterRbacArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:cluster:StrimziClusterRbac", name, {}, opts);
    const roles = STRIMZI_CLUSTER_ROLE_FILES.map(
      (file) =>
        new k8s.yaml.v2.ConfigFile(
          `${name}-${file.replace(/\.yaml$/, "").toLowerCase()}`,
          { file: `https://raw.githubusercontent.com/strimzi/strimzi-kafka-operator/${args.release}/install/cluster-operator/${file}` },
          // Kept like the CRDs: every environment's operator relies on them.
          { parent: this, protect: true, retainOnDelete: true, transforms: [keepForever] },
        ),
    );
    this.bindings = args.operatorNamespaces.flatMap((namespace) =>
      STRIMZI_CLUSTER_BINDINGS.map(
        ([suffix, role]) =>
          new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-${suffix}-${namespace}`,
            {
              metadata: { name: strimziBindingName(suffix, namespace), labels: args.labels("strimzi-cluster-operator") },
              subjects: [{ kind: "ServiceAccount", name: "strimzi-cluster-operator", namespace }],
              roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
            },
            { parent: this, dependsOn: roles },
          ),
      ),
    );
    this.registerOutputs({ release: args.release, bindings: this.bindings.map((b) => b.metadata.name) });
  }
}
