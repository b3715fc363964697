import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as mongodbatlas from "@pulumi/mongodbatlas";
import * as pulumi from "@pulumi/pulumi";
import { SecureNamespace } from "../components/namespaces";
import { buildApplication } from "./application";
import { kubernetesProviderArgs } from "./cluster";
import type { ClusterContract } from "./cluster/contract";
import { complianceOutput } from "./compliance/output";
import type { LoadedEnvironment } from "./config/load";
import type { SecretKey } from "./config/schema";
import type { EnvironmentContext } from "./context";
import { buildDataLayer } from "./data";
import { buildEdge } from "./edge";
import { namespaceNames, standardLabels } from "./naming";
import { buildObservability } from "./observability";
import { charts } from "./versions";

/**
 * One DiaspoMoney environment: explicit providers, the two namespaces, then the areas in the order
 * their dependencies require (data → observability → app → edge). Everything it creates is inside its
 * two namespaces, or is its own (DNS records, Atlas project): what the cluster's environments share
 * (CRDs, cert-manager, CA issuers, cluster-wide RBAC) belongs to the cluster stack, `cluster`.
 */
export class DiaspomoneyEnvironment extends pulumi.ComponentResource {
  readonly context: EnvironmentContext;
  /** Stack outputs: what operators, CI and auditors read. No secret. */
  readonly outputs: Record<string, unknown>;

  constructor(loaded: LoadedEnvironment, secrets: Partial<Record<SecretKey, pulumi.Output<string>>>, cluster: ClusterContract) {
    const { spec, config, stack } = loaded;
    super("diaspomoney:platform:Environment", `diaspomoney-${spec.name}`, {});

    const providers: EnvironmentContext["providers"] = {
      kubernetes: new k8s.Provider("kubernetes", kubernetesProviderArgs(config.kubernetes), { parent: this }),
      cloudflare: config.integrations.cloudflare
        ? new cloudflare.Provider("cloudflare", { apiToken: secrets.cloudflareApiToken }, { parent: this })
        : undefined,
      atlas: spec.features.atlas && config.integrations.atlas
        ? new mongodbatlas.Provider(
            "mongodbatlas",
            { publicKey: secrets.atlasPublicKey, privateKey: secrets.atlasPrivateKey },
            { parent: this },
          )
        : undefined,
    };

    const names = namespaceNames(spec.name);
    const labels = (name: string, component?: string) => standardLabels(spec.name, name, component);
    const nsOpts = { parent: this, provider: providers.kubernetes, ...(spec.features.protectStatefulResources ? { protect: true } : {}) };
    const namespaces = {
      app: new SecureNamespace(
        names.app,
        {
          name: names.app,
          labels: labels(names.app, "app"),
          budget: spec.namespaces.app,
          // Traefik's Service is the environment's only entry point: web (80) and websecure (443).
          exposure: { loadBalancers: 1, nodePorts: 2 },
        },
        nsOpts,
      ),
      // Percona's and OT's operator pods and database init containers do not all meet `restricted`
      // (writable root filesystems, no seccomp profile in some charts): enforce `baseline`, and make
      // every `restricted` violation visible through warn and audit.
      infra: new SecureNamespace(
        names.infra,
        {
          name: names.infra,
          labels: labels(names.infra, "infra"),
          budget: spec.namespaces.infra,
          podSecurity: { enforce: "baseline", warn: "restricted", audit: "restricted" },
        },
        nsOpts,
      ),
    };

    const ctx: EnvironmentContext = {
      stack,
      cluster,
      spec,
      config,
      secrets,
      names,
      labels,
      providers,
      namespaces,
      parent: this,
      stateful: spec.features.protectStatefulResources ? { protect: true, retainOnDelete: true } : {},
    };
    this.context = ctx;

    const data = buildDataLayer(ctx);
    const observability = buildObservability(ctx);
    const app = buildApplication(ctx, { data, observability });
    const edge = buildEdge(ctx, { app, observability });

    this.outputs = {
      namespaces: { app: namespaces.app.name, infra: namespaces.infra.name },
      hosts: spec.hosts,
      environment: {
        name: spec.name,
        tier: spec.tier,
        domain: spec.domain,
        appReplicas: { min: spec.app.replicas, max: spec.app.maxReplicas },
        kafkaBrokers: spec.kafka.brokers,
        kafkaDedicatedControllers: spec.kafka.dedicatedControllers,
        mongodbMembers: spec.mongodb.members,
        redis: { leaders: spec.redis.leaders, followersPerLeader: spec.redis.followersPerLeader },
        features: spec.features,
        cluster: { stack: config.cluster.stack, identifier: cluster.clusterIdentifier, services: cluster.services, crds: cluster.crds },
        charts: Object.fromEntries(Object.entries(charts).map(([k, c]) => [k, c.version])),
      },
      data: data.outputs,
      observability: observability.outputs,
      app: app.outputs,
      edge: edge.outputs,
      compliance: complianceOutput(spec, config),
    };
    this.registerOutputs(this.outputs);
  }
}
