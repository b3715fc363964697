import type { ApiFamily } from "../components/api-families";

/**
 * DiaspoMoney's API families, as the seed lists them ("APIs": `/api/auth/*`, `/api/users/*`,
 * `/api/transactions/*`, `/api/payments/*`), with what the edge does to each and who hears about
 * their anomalies. Read by the edge (infra/edge.ts) and the alerting (infra/observability.ts).
 */
export const apiFamilies = [
  {
    name: "auth",
    pathPrefix: "/api/auth",
    team: "security",
    edge: {
      // A person signs in a few times an hour; a credential-stuffing tool, thousands of times.
      rateLimit: { average: 10, period: "1m", burst: 5 },
      maxInFlightPerClient: 2,
      // A login or token request is a few hundred bytes.
      maxRequestBodyBytes: 16 * 1024,
      bruteForce: { failures: 10, periodSeconds: 60, blockSeconds: 600 },
    },
  },
  { name: "users", pathPrefix: "/api/users", team: "platform", edge: { maxRequestBodyBytes: 64 * 1024 } },
  {
    name: "transactions",
    pathPrefix: "/api/transactions",
    team: "payments",
    edge: { maxRequestBodyBytes: 32 * 1024, strictWaf: true },
  },
  {
    name: "payments",
    pathPrefix: "/api/payments",
    team: "payments",
    edge: { maxRequestBodyBytes: 32 * 1024, strictWaf: true },
  },
] as const satisfies readonly ApiFamily[];

/** The site route (infra/edge.ts) whose host serves the API: its per-family IngressRoutes are `app-api-<family>`. */
export const APP_SITE_ROUTE = "app";
