import type { ClusterSpecInput } from "../infra/cluster/schema";

/** A laptop cluster (kind, k3d, minikube) for the local stack: its CRDs, cert-manager and internal CA. */
export const clusterLocal = {
  name: "cluster-local",
  tier: "nonproduction",
  environments: ["local"],
  certManager: { replicas: 1 },
  // Disposable: `pulumi destroy` of the laptop's cluster stack removes what it installed.
  protectSharedResources: false,
} satisfies ClusterSpecInput;
