import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentContext } from "./context";

/** A Service that Traefik routes to. */
export interface Backend {
  service: pulumi.Input<string>;
  port: number;
}

export interface Observability {
  backends: { grafana: Backend; prometheus: Backend; alertmanager: Backend };
  /** Secret in the app namespace with the Sentry DSN (key `SENTRY_DSN`). */
  sentrySecretName: pulumi.Input<string>;
  outputs: Record<string, unknown>;
}

export function buildObservability(_ctx: EnvironmentContext): Observability {
  return {
    backends: {
      grafana: { service: "grafana", port: 80 },
      prometheus: { service: "prometheus", port: 9090 },
      alertmanager: { service: "alertmanager", port: 9093 },
    },
    sentrySecretName: "sentry",
    outputs: {},
  };
}
