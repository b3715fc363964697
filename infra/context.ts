import type * as cloudflare from "@pulumi/cloudflare";
import type * as k8s from "@pulumi/kubernetes";
import type * as mongodbatlas from "@pulumi/mongodbatlas";
import type * as pulumi from "@pulumi/pulumi";
import type { SecureNamespace } from "../components/namespaces";
import type { DeploymentConfig, EnvironmentSpec, SecretKey } from "./config/schema";
import type { NamespaceNames } from "./naming";

/** Everything an area of the environment (data, edge, observability, app) is built from. */
export interface EnvironmentContext {
  stack: string;
  spec: EnvironmentSpec;
  config: DeploymentConfig;
  /** Secret config values, as Pulumi secrets. Atlas keys are present only when Atlas is on. */
  secrets: Partial<Record<SecretKey, pulumi.Output<string>>>;
  names: NamespaceNames;
  /** Standard labels for an object named `name` (see infra/naming.ts). */
  labels(name: string, component?: string): Record<string, string>;
  providers: {
    kubernetes: k8s.Provider;
    cloudflare: cloudflare.Provider;
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
