import type * as pulumi from "@pulumi/pulumi";
import { AppDeployment } from "../components/app";
import type { EnvironmentContext } from "./context";
import { CONNECTION_SECRET, type DataLayer } from "./data";
import { selectorLabels } from "./naming";
import { APP_METRICS, SENTRY_SECRET, type Observability } from "./observability";

/** A weighted target of the app route (one for rolling, stable + canary, or the active colour). */
export interface RouteTarget {
  service: pulumi.Input<string>;
  port: number;
  weight: number;
}

export interface Application {
  routeTargets: RouteTarget[];
  outputs: Record<string, unknown>;
}

/** Pods allowed to open connections to the app's port: the edge proxy only. */
export const APP_INGRESS_FROM = [{ "app.kubernetes.io/name": "traefik" }];
/** Pods allowed to open connections to the app's metrics port: the scraper only. */
export const APP_METRICS_FROM = [{ "app.kubernetes.io/name": "prometheus" }];

/** The web workload of the environment, sized by the stack file, released as the config says. */
export function buildApplication(ctx: EnvironmentContext, deps: { data: DataLayer; observability: Observability }): Application {
  const { spec, config } = ctx;
  const app = new AppDeployment(
    "app",
    {
      namespace: ctx.namespaces.app.name,
      labels: ctx.labels("web", "app"),
      selectorLabels: selectorLabels(spec.name, "web"),
      name: "web",
      metricsPort: APP_METRICS.containerPort,
      image: config.app.image,
      release: config.app.release,
      replicas: spec.app.replicas,
      maxReplicas: spec.app.maxReplicas,
      resources: spec.app.resources,
      connectionSecretName: deps.data.connectionSecretName,
      trust: { secretName: deps.data.trust.secretName, key: deps.data.trust.caKey, mountPath: deps.data.trust.mountPath },
      sentry: { secretName: deps.observability.sentrySecretName, key: "SENTRY_DSN" },
      env: { APP_ENVIRONMENT: spec.name, LOG_LEVEL: "info" },
      // Wrapped data keys and the KMS reference only: the master key never leaves the KMS.
      fieldEncryption: config.app.fieldEncryption,
      network: {
        ingressFrom: APP_INGRESS_FROM,
        metricsFrom: APP_METRICS_FROM,
        dataNamespace: ctx.names.infra,
        dataPorts: [deps.data.ports.mongodb, deps.data.ports.redis, deps.data.ports.kafka],
      },
      // The app starts once MongoDB, Kafka (its topics and user) and Redis report ready, and rolls when
      // a Secret it reads changes.
      after: deps.data.ready,
      rollOn: { [CONNECTION_SECRET]: deps.data.connectionSecretChecksum, [SENTRY_SECRET]: deps.observability.sentrySecretChecksum },
      awaitReadiness: config.kubernetes.awaitReadiness,
    },
    { parent: ctx.parent, provider: ctx.providers.kubernetes },
  );

  return {
    routeTargets: app.routeTargets,
    outputs: {
      strategy: config.app.release.strategy,
      images: Object.fromEntries(app.variants.map((v) => [v.name, v.image])),
      replicas: Object.fromEntries(app.variants.map((v) => [v.name, { min: v.minReplicas, max: v.maxReplicas }])),
      routeTargets: app.routeTargets,
      // For auditors: which master key wraps the data keys, and which data key encrypts each purpose.
      fieldEncryption: { kms: config.app.fieldEncryption.kms.provider, masterKey: app.fieldEncryption.keyRef, keyIds: app.fieldEncryption.keyIds, activeKeys: app.fieldEncryption.activeKeys },
    },
  };
}
