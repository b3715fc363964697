import type { PodPeer } from "../../components/mongodb";
import { apiServerAccess, type ApiServerAccess } from "../../components/network";
import type { EnvironmentContext } from "../context";

/**
 * The peers the data layer's network policies name, from the contracts between areas: the app's pods
 * (`app.kubernetes.io/name: web`) and Prometheus (`app.kubernetes.io/name: prometheus`), both in the
 * app namespace, and the API server the operators call.
 */
export function appPods(ctx: EnvironmentContext): PodPeer {
  return { namespace: ctx.names.app, podLabels: { "app.kubernetes.io/name": "web" } };
}

export function prometheusPods(ctx: EnvironmentContext): PodPeer {
  return { namespace: ctx.names.app, podLabels: { "app.kubernetes.io/name": "prometheus" } };
}

/** The cluster's CNI and `kubernetes.apiServerCidrs` (when unset, any address on the API ports). */
export function apiServer(ctx: EnvironmentContext): ApiServerAccess {
  return apiServerAccess(ctx.config.kubernetes);
}
