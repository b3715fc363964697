import { liveness } from "../../../lib/health";

// Served by `next dev` only: in production the custom server answers the probes before Next.js
// (src/lib/request-gate.ts), so liveness never waits behind the framework's pipeline.
export const dynamic = "force-dynamic";

export function GET(): Response {
  const { status, body } = liveness();
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}
