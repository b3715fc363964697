import { isShuttingDown } from "./lifecycle";
import { runtime } from "./runtime";

/**
 * The probes' answers, shared by the custom server (which answers them before Next.js) and the
 * route handlers that `next dev` serves.
 */
export interface HealthAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Liveness: answers as long as the event loop turns; it never touches a dependency. */
export function liveness(): HealthAnswer {
  return { status: 200, body: { status: "ok" } };
}

/**
 * Readiness: 503 only while shutting down or when a required dependency (READINESS_REQUIRED,
 * none by default) fails; otherwise 200, `ready` or `degraded` with the failed dependencies named.
 * Reasons are error codes, never host names or credentials: the route is reachable through the proxy.
 */
export async function readiness(): Promise<HealthAnswer> {
  if (isShuttingDown()) return { status: 503, body: { status: "shutting-down" } };
  const { readiness: check, settings } = runtime();
  const report = await check();
  // The signal may have come while the check ran: the answer must say what is true now.
  if (isShuttingDown()) return { status: 503, body: { status: "shutting-down" } };
  const checks = Object.fromEntries(Object.entries(report.checks).map(([name, r]) => [name, r.ok ? "ok" : r.reason]));
  if (!report.ready) return { status: 503, body: { status: "unavailable", failed: report.failed, required: settings.required, checks } };
  if (report.degraded) return { status: 200, body: { status: "degraded", failed: report.failed, required: settings.required, checks } };
  return { status: 200, body: { status: "ready", checks } };
}
