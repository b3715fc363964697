// Liveness: answers as long as the event loop turns. It never touches a dependency, so an outage of
// MongoDB, Redis or Kafka cannot make Kubernetes restart every pod at once.
export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}
