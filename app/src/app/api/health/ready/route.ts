import { isShuttingDown } from "../../../../lib/lifecycle";
import { runtime } from "../../../../lib/runtime";

// Readiness: MongoDB, Redis and Kafka answer within the timeout. A 503 names what failed so the
// on-call engineer sees it in `kubectl describe pod`; reasons are error codes, never host names.
export const dynamic = "force-dynamic";

const headers = { "cache-control": "no-store" };

export async function GET(): Promise<Response> {
  if (isShuttingDown()) {
    return Response.json({ status: "shutting-down" }, { status: 503, headers });
  }
  const report = await runtime().readiness();
  const checks = Object.fromEntries(Object.entries(report.checks).map(([name, r]) => [name, r.ok ? "ok" : r.reason]));
  return report.ready
    ? Response.json({ status: "ready", checks }, { headers })
    : Response.json({ status: "unavailable", failed: report.failed, checks }, { status: 503, headers });
}
