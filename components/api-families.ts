import type { Team } from "./alerts";

/**
 * Families of API routes (`/api/auth/*`, `/api/payments/*`...): one definition that the edge (routes,
 * rate limits, request-size limits, cache and WAF rules) and the alerting (rules, anomaly detection,
 * dashboards) both read, so that a request to `/api/payments/42` is "payments" at Cloudflare, in
 * Traefik, in the app's metrics and in the alert that fires on it.
 */
export interface ApiFamily {
  /** Lower-case name: the `family` label of the recorded series and a suffix of object names. */
  name: string;
  /** `/api/<name>`: the family serves that path and everything below it. */
  pathPrefix: string;
  /** Who this family's anomalies go to (the `team` label the Alertmanager routes on). */
  team: Team;
  edge: ApiEdgePolicy;
}

/** How the edge treats a family. Unset fields mean the site route's defaults. */
export interface ApiEdgePolicy {
  /** Per client (the address the CDN forwards): `average` requests per `period`, bursts up to `burst`. */
  rateLimit?: { average: number; period: string; burst: number };
  /** Requests one client may have in flight at once: a brute-force tool's parallelism. */
  maxInFlightPerClient?: number;
  /** Largest request body, in bytes: Traefik answers 413 beyond it, before the app reads anything. */
  maxRequestBodyBytes?: number;
  /** Cloudflare's OWASP ruleset blocks at its most sensitive anomaly-score threshold on this family. */
  strictWaf?: boolean;
  /**
   * Cloudflare blocks a client that gets more than `failures` 401/403/429 answers from this family
   * within `periodSeconds`, for `blockSeconds` (a rate limit on failed attempts: brute force).
   */
  bruteForce?: { failures: number; periodSeconds: number; blockSeconds: number };
}

const NAME = /^[a-z]+$/;

/** Everything wrong with a list of families; empty when they can be used. */
export function apiFamilyProblems(families: readonly ApiFamily[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (!NAME.test(f.name)) problems.push(`family "${f.name}": the name must be lower-case letters (it is a label value and part of object names)`);
    if (seen.has(f.name)) problems.push(`family "${f.name}" is defined twice`);
    seen.add(f.name);
    if (f.pathPrefix !== `/api/${f.name}`) problems.push(`family "${f.name}": pathPrefix must be /api/${f.name} (got ${f.pathPrefix}): the metrics derive the family from the path`);
    const r = f.edge.rateLimit;
    if (r && (r.average <= 0 || r.burst <= 0 || !/^\d+(s|m|h)$/.test(r.period))) problems.push(`family "${f.name}": rateLimit needs a positive average and burst and a period such as 1m`);
    if (f.edge.maxRequestBodyBytes !== undefined && !(f.edge.maxRequestBodyBytes > 0)) problems.push(`family "${f.name}": maxRequestBodyBytes must be positive`);
  }
  return problems;
}

/**
 * An RE2 pattern matching the families' paths (and Next.js route patterns such as
 * `/api/payments/[id]`), capturing the family name as `$1`. PromQL anchors it at both ends.
 */
export function familyPathPattern(families: readonly Pick<ApiFamily, "name">[]): string {
  return `/api/(${families.map((f) => f.name).join("|")})(?:/.*)?`;
}

/** The family of a path or route pattern, as the recording rules derive it; undefined outside every family. */
export function familyOfPath(path: string, families: readonly Pick<ApiFamily, "name">[]): string | undefined {
  return new RegExp(`^(?:${familyPathPattern(families)})$`).exec(path)?.[1];
}

/** Name of the IngressRoute that serves `family` on the site route `site` (`app-api-auth`). */
export function familyRouteName(site: string, family: Pick<ApiFamily, "name">): string {
  return `${site}-api-${family.name}`;
}

/**
 * An RE2 pattern matching the names Traefik gives the routers of the families' IngressRoutes
 * (`<namespace>-<ingressroute>-<10 hex of the rule's hash>@kubernetescrd`), capturing the family as `$1`.
 */
export function familyRouterPattern(namespace: string, site: string, families: readonly Pick<ApiFamily, "name">[]): string {
  return `${namespace}-${site}-api-(${families.map((f) => f.name).join("|")})-[0-9a-f]{10}@kubernetescrd`;
}
