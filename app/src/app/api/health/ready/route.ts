import { readiness } from "../../../../lib/health";

// Served by `next dev` only: in production the custom server answers the probes before Next.js.
export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const { status, body } = await readiness();
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}
