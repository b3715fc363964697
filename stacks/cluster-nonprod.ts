import type { ClusterSpecInput } from "../infra/cluster/schema";

/** The non-production cluster: dev and rct share it. Deploy it before either, update it first. */
export const clusterNonprod = {
  name: "cluster-nonprod",
  tier: "nonproduction",
  environments: ["dev", "rct"],
  certManager: { replicas: 2 },
  protectSharedResources: true,
} satisfies ClusterSpecInput;
