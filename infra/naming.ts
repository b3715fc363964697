/**
 * Names and labels: the one place that knows how DiaspoMoney names things. Components receive the
 * results as arguments; they never build DiaspoMoney names themselves.
 */
export const PART_OF = "diaspomoney";
export const ENVIRONMENT_LABEL = "diaspomoney.fr/environment";

export interface NamespaceNames {
  /** `diaspomoney-<env>`: the app, Traefik and the monitoring stack. */
  app: string;
  /** `diaspomoney-<env>-infra`: MongoDB, Redis and Kafka with their operators. */
  infra: string;
}

export function namespaceNames(env: string): NamespaceNames {
  return { app: `diaspomoney-${env}`, infra: `diaspomoney-${env}-infra` };
}

/** The standard label set carried by every Kubernetes object of the platform. */
export function standardLabels(env: string, name: string, component?: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "pulumi",
    [ENVIRONMENT_LABEL]: env,
    ...(component ? { "app.kubernetes.io/component": component } : {}),
  };
}

/** Labels a pod selector may use: stable across releases (no version, no managed-by). */
export function selectorLabels(env: string, name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, [ENVIRONMENT_LABEL]: env };
}
