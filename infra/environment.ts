import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as mongodbatlas from "@pulumi/mongodbatlas";
import * as pulumi from "@pulumi/pulumi";
import { SecureNamespace } from "../components/namespaces";
import { buildApplication } from "./application";
import { complianceOutput } from "./compliance/output";
import type { LoadedEnvironment } from "./config/load";
import type { SecretKey } from "./config/schema";
import type { EnvironmentContext } from "./context";
import { buildDataLayer } from "./data";
import { buildEdge, deployCertManager } from "./edge";
import { namespaceNames, standardLabels } from "./naming";
import { buildObservability } from "./observability";
import { charts } from "./versions";

/**
 * One DiaspoMoney environment: explicit providers, the two namespaces, then the areas in the order
 * their dependencies require (cert-manager → data → observability → app → edge).
 */
export class DiaspomoneyEnvironment extends pulumi.ComponentResource {
  readonly context: EnvironmentContext;
  /** Stack outputs: what operators, CI and auditors read. No secret. */
  readonly outputs: Record<string, unknown>;

  constructor(loaded: LoadedEnvironment, secrets: Partial<Record<SecretKey, pulumi.Output<string>>>) {
    const { spec, config, stack } = loaded;
    super("diaspomoney:platform:Environment", `diaspomoney-${spec.name}`, {});

    const providers: EnvironmentContext["providers"] = {
      kubernetes: new k8s.Provider(
        "kubernetes",
        {
          context: config.kubernetes.context,
          clusterIdentifier: config.kubernetes.clusterIdentifier,
          enableServerSideApply: true,
          deleteUnreachable: false,
        },
        { parent: this },
      ),
      cloudflare: new cloudflare.Provider("cloudflare", { apiToken: secrets.cloudflareApiToken }, { parent: this }),
      atlas: spec.features.atlas
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

    // cert-manager first: the data layer's internal CA and the edge's certificates both need it.
    const certManager = deployCertManager(ctx);
    const data = buildDataLayer(ctx, { certManager: certManager?.chart });
    const observability = buildObservability(ctx);
    const app = buildApplication(ctx, { data, observability });
    const edge = buildEdge(ctx, { app, observability, certManager });

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
        clusterServicesInstalled: config.kubernetes.installClusterServices,
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
