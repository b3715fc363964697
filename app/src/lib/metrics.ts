import client from "prom-client";

/**
 * Request duration buckets, in seconds. Dense around the 200 ms objective (p95 < 200 ms) so that
 * `histogram_quantile(0.95, ...)` and the "share of requests under 200 ms" ratio are exact at the
 * threshold rather than interpolated across a wide bucket.
 */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1, 2.5, 5];

export interface WebMetrics {
  registry: client.Registry;
  httpDuration: client.Histogram<"route" | "method" | "status">;
}

const KEY = Symbol.for("diaspomoney.web.metrics");

function create(): WebMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: "http_request_duration_seconds",
    help: "Duration of HTTP requests served by the web app, by route pattern, method and status code.",
    labelNames: ["route", "method", "status"] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  return { registry, httpDuration };
}

/** The one registry of the process (see lifecycle.ts for why it lives on `globalThis`). */
export function webMetrics(): WebMetrics {
  const g = globalThis as { [KEY]?: WebMetrics };
  return (g[KEY] ??= create());
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Any other verb is one label value, so a client cannot grow the series count at will. */
export function methodLabel(method: string | undefined): string {
  const m = (method ?? "").toUpperCase();
  return METHODS.has(m) ? m : "OTHER";
}
