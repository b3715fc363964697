import type { ClusterSpecInput } from "../infra/cluster/schema";

/** The production cluster: prod alone. */
export const clusterProd = {
  name: "cluster-prod",
  tier: "production",
  environments: ["prod"],
  certManager: { replicas: 3 },
  protectSharedResources: true,
} satisfies ClusterSpecInput;
