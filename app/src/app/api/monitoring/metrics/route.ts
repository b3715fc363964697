import { webMetrics } from "../../../../lib/metrics";

// Prometheus exposition of the process metrics and of the request histogram the server records.
export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const { registry } = webMetrics();
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
}
