import type * as cloudflare from "@pulumi/cloudflare";
import type * as k8s from "@pulumi/kubernetes";
import type * as mongodbatlas from "@pulumi/mongodbatlas";
import type * as pulumi from "@pulumi/pulumi";
import type { SecureNamespace } from "../components/namespaces";
import type { ClusterContract } from "./cluster/contract";
import type { DeploymentConfig, EnvironmentSpec, SecretKey } from "./config/schema";
import type { NamespaceNames } from "./naming";

/** Everything an area of the environment (data, edge, observability, app) is built from. */
export interface EnvironmentContext {
  stack: string;
  /** What the cluster stack offers this environment (read and checked before anything is registered). */
  cluster: ClusterContract;
  spec: EnvironmentSpec;
  config: DeploymentConfig;
  /** Secret config values, as Pulumi secrets. Atlas keys are present only when Atlas is on. */
  secrets: Partial<Record<SecretKey, pulumi.Output<string>>>;
  names: NamespaceNames;
  /** Standard labels for an object named `name` (see infra/naming.ts). */
  labels(name: string, component?: string): Record<string, string>;
  providers: {
    kubernetes: k8s.Provider;
    /** Absent where `integrations.cloudflare` is off. */
    cloudflare?: cloudflare.Provider;
    atlas?: mongodbatlas.Provider;
  };
  namespaces: { app: SecureNamespace; infra: SecureNamespace };
  /** The parent of every area component: the environment itself. */
  parent: pulumi.ComponentResource;
  /**
   * Options for stateful resources (databases, brokers, volumes, DNS zone): `protect` and
   * `retainOnDelete` when the environment protects its state (always in production).
   */
  stateful: Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete">;
}

/** Whether this environment installs Helm charts (Traefik, monitoring, operators): not where the cluster's owners run them. */
export function installsCharts(ctx: Pick<EnvironmentContext, "cluster">): boolean {
  return ctx.cluster.services === "managed";
}
