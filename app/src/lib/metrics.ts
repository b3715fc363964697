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
  /** 1 when the last check of the dependency passed: what the dependency alerts fire on. */
  dependencyUp: client.Gauge<"dependency">;
  dependencyCheckSeconds: client.Gauge<"dependency">;
  dependencyFailures: client.Counter<"dependency">;
  /** 1 while the readiness probe succeeds (no required dependency down, not shutting down). */
  ready: client.Gauge;
  /** Uses of each data key; `key_id` takes only the configured ids, so the series are bounded. */
  fieldEncryption: client.Counter<"operation" | "purpose" | "key_id" | "outcome">;
  /** Payment attempts by outcome ({@link PAYMENT_OUTCOMES}): what payment anomaly detection reads. */
  paymentAttempts: client.Counter<"outcome">;
  /** Login attempts by outcome ({@link LOGIN_OUTCOMES}): what credential-stuffing detection reads. */
  loginAttempts: client.Counter<"outcome">;
}

/** Outcomes of a payment: `declined` by the issuer or the fraud checks, `failed` on a technical error. */
export const PAYMENT_OUTCOMES = ["succeeded", "declined", "failed"] as const;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];
export const LOGIN_OUTCOMES = ["succeeded", "failed"] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

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
  const dependencyUp = new client.Gauge({
    name: "app_dependency_up",
    help: "1 if the last check of the dependency (mongodb, redis, kafka) passed, 0 if it failed.",
    labelNames: ["dependency"] as const,
    registers: [registry],
  });
  const dependencyCheckSeconds = new client.Gauge({
    name: "app_dependency_check_duration_seconds",
    help: "Duration of the last check of the dependency, in seconds.",
    labelNames: ["dependency"] as const,
    registers: [registry],
  });
  const dependencyFailures = new client.Counter({
    name: "app_dependency_check_failures_total",
    help: "Failed checks of the dependency.",
    labelNames: ["dependency"] as const,
    registers: [registry],
  });
  const ready = new client.Gauge({ name: "app_ready", help: "1 while the pod reports ready.", registers: [registry] });
  const fieldEncryption = new client.Counter({
    name: "app_field_encryption_operations_total",
    help: "Field-encryption operations by data key: encrypt, decrypt, blind-index, unwrap (KMS call); outcome ok or error.",
    labelNames: ["operation", "purpose", "key_id", "outcome"] as const,
    registers: [registry],
  });
  // Business counters: one label, a closed set of values, every series present from the start at 0 so
  // that the first failure is a change from a known baseline rather than a new series.
  const paymentAttempts = new client.Counter({
    name: "app_payment_attempts_total",
    help: "Payment attempts by outcome: succeeded, declined (issuer or fraud checks), failed (technical error).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  for (const outcome of PAYMENT_OUTCOMES) paymentAttempts.inc({ outcome }, 0);
  const loginAttempts = new client.Counter({
    name: "app_login_attempts_total",
    help: "Login attempts by outcome: succeeded or failed.",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  for (const outcome of LOGIN_OUTCOMES) loginAttempts.inc({ outcome }, 0);
  return { registry, httpDuration, dependencyUp, dependencyCheckSeconds, dependencyFailures, ready, fieldEncryption, paymentAttempts, loginAttempts };
}

/** Counts a payment attempt; an outcome outside {@link PAYMENT_OUTCOMES} counts as `failed`, so the series stay bounded. */
export function recordPaymentAttempt(outcome: PaymentOutcome): void {
  webMetrics().paymentAttempts.inc({ outcome: (PAYMENT_OUTCOMES as readonly string[]).includes(outcome) ? outcome : "failed" });
}

/** Counts a login attempt; an outcome outside {@link LOGIN_OUTCOMES} counts as `failed`. */
export function recordLoginAttempt(outcome: LoginOutcome): void {
  webMetrics().loginAttempts.inc({ outcome: (LOGIN_OUTCOMES as readonly string[]).includes(outcome) ? outcome : "failed" });
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
