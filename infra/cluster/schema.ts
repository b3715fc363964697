import { z } from "zod";
import { kubernetesTargetSchema } from "../config/schema";

/**
 * A cluster stack's two sources, validated like an environment's (infra/config/load.ts): the cluster
 * spec (`stacks/cluster-<name>.ts`, code) and the deployment config (`Pulumi.cluster-<name>.yaml`).
 */

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const clusterSpecSchema = z.strictObject({
  /** The stack name: `cluster-nonprod`, `cluster-prod`. */
  name: z.string().regex(/^cluster-[a-z0-9-]+$/, "a stack name starting with cluster-"),
  tier: z.enum(["nonproduction", "production"]),
  /**
   * The environment stacks this cluster hosts: each gets its internal CA issuer and its operators'
   * cluster-wide bindings here, and refuses to deploy on a cluster that does not list it.
   */
  environments: z.array(z.string().regex(dnsLabel, "an environment name such as dev")).min(1),
  certManager: z.strictObject({
    /** Replicas of cert-manager's controller, webhook and CA injector. */
    replicas: z.number().int().min(1),
  }),
  /** `protect` on the cluster's shared namespaces and issuers (CRDs are always protected and retained). */
  protectSharedResources: z.boolean(),
});

export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;
export type ClusterSpec = z.output<typeof clusterSpecSchema>;

const nodeGroup = z.strictObject({
  /** Name (or id) of the node group as the cloud provider knows it. */
  name: z.string().min(1),
  minSize: z.number().int().nonnegative(),
  maxSize: z.number().int().positive(),
});

export const clusterConfigSchema = z.strictObject({
  kubernetes: kubernetesTargetSchema,
  /**
   * Who runs the cluster's controllers (cert-manager, Traefik, the Prometheus operator, the data
   * operators, the Cluster Autoscaler). `managed`: this project installs them from their pinned
   * charts. `external`: another team does (same chart versions, same release names); the platform
   * then installs no chart and applies only the CRDs of its own objects.
   */
  services: z.enum(["managed", "external"]).default("managed"),
  /**
   * Where the CRDs come from: the pinned release URLs (default), or a directory holding the same
   * files as `<directory>/<project>/<file>` (an air-gapped mirror; `npm run e2e` uses one).
   */
  crds: z.strictObject({ directory: z.string().min(1).optional() }).default({}),
  /**
   * The seed's node autoscaling: `platform` where the managed Kubernetes offering scales its node
   * pools itself (enable it there); `chart` installs the Cluster Autoscaler from its official chart.
   */
  autoscaler: z.discriminatedUnion("mode", [
    z.strictObject({ mode: z.literal("platform") }),
    /** Nothing scales the nodes (a laptop cluster). */
    z.strictObject({ mode: z.literal("none") }),
    z.strictObject({
      mode: z.literal("chart"),
      /** The chart's `cloudProvider`: clusterapi, aws, gce, azure, hetzner... */
      cloudProvider: z.string().regex(/^[a-z0-9-]+$/, "a Cluster Autoscaler cloud provider name such as clusterapi"),
      nodeGroups: z.array(nodeGroup).min(1),
      /** Scale a node down when its pods request less than this share of it. Default 0.5. */
      scaleDownUtilizationThreshold: z.number().gt(0).lt(1).default(0.5),
    }),
  ]),
});

export type ClusterConfigInput = z.input<typeof clusterConfigSchema>;
export type ClusterConfig = z.output<typeof clusterConfigSchema>;
