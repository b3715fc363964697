/**
 * The per-API edge policy: the seed's API families (`/api/auth`, `/api/users`, `/api/transactions`,
 * `/api/payments`) each reach the app through their own Traefik route with their own limits, nothing
 * under /api is cached (Cloudflare and origin), the payment families get the strict WAF, auth a
 * brute-force guard, and the routers' names are the ones the anomaly rules count refusals on.
 */
import { describe, expect, it } from "vitest";
import { anomalySeries } from "../../components/anomaly";
import { familyOfPath, familyRouterPattern, type ApiFamily } from "../../components/api-families";
import { bruteForceRules, cacheRules, managedWafRules, MANAGED_RULESETS, OWASP_ANOMALY_SCORE_RULE, pathExpression } from "../../components/cloudflare";
import {
  apiRouteSpecs,
  familyMiddlewares,
  familyMiddlewareSpecs,
  MIDDLEWARES,
  NO_STORE_HEADERS,
  ROUTE_PRIORITY,
  TraefikRoutes,
  type SiteRoute,
} from "../../components/traefik";
import { anomalySignals } from "../../infra/anomaly";
import { apiFamilies } from "../../infra/api";
import { cachedPlan, inputs, k8sObject, ofType, planProgram, STACKS } from "../harness";

const site: SiteRoute = {
  name: "app",
  host: "shop.example.org",
  tlsSecretName: "app-tls",
  targets: [{ service: "web", port: 80, weight: 100 }],
  privatePathPrefixes: ["/api/monitoring"],
  apiPathPrefix: "/api",
  apiFamilies,
};
const specs = apiRouteSpecs(site);
const allSpecs = { app: { routes: [{ match: "Host(`shop.example.org`) && !PathPrefix(`/api/monitoring`)" }] }, ...specs };

/**
 * Which IngressRoute Traefik picks for a request: the matching rule with the highest priority (a
 * rule's length when it has none). Rules use Host, Path, PathPrefix, !, && and ||, as ours do.
 */
function routeFor(host: string, path: string): string | undefined {
  const candidates = Object.entries(allSpecs).flatMap(([name, s]) =>
    s.routes.map((r: { match: string; priority?: number }) => {
      const js = r.match
        .replace(/Host\(`([^`]+)`\)/g, (_m, h) => JSON.stringify(h === host))
        .replace(/PathPrefix\(`([^`]+)`\)/g, (_m, p) => JSON.stringify(path.startsWith(p)))
        .replace(/Path\(`([^`]+)`\)/g, (_m, p) => JSON.stringify(path === p));
      return { name, priority: r.priority ?? r.match.length, hit: new Function(`return ${js}`)() as boolean };
    }),
  );
  return candidates.filter((c) => c.hit).sort((a, b) => b.priority - a.priority)[0]?.name;
}

describe("routes of the API families", () => {
  it("send each family to its own route, the rest of /api to the API route, and nothing private anywhere", () => {
    expect(routeFor("shop.example.org", "/api/auth/login")).toBe("app-api-auth");
    expect(routeFor("shop.example.org", "/api/auth")).toBe("app-api-auth");
    expect(routeFor("shop.example.org", "/api/payments/42/capture")).toBe("app-api-payments");
    expect(routeFor("shop.example.org", "/api/transactions")).toBe("app-api-transactions");
    expect(routeFor("shop.example.org", "/api/users/me")).toBe("app-api-users");
    // A path that only starts like a family is not that family (and not its limits).
    expect(routeFor("shop.example.org", "/api/authx")).toBe("app-api");
    expect(routeFor("shop.example.org", "/api/health")).toBe("app-api");
    expect(routeFor("shop.example.org", "/")).toBe("app");
    expect(routeFor("shop.example.org", "/api/monitoring/metrics")).toBeUndefined();
    expect(routeFor("other.example.org", "/api/auth/login")).toBeUndefined();
  });

  it("classify paths as the metrics do, so the route and the alert name the same family", () => {
    for (const path of ["/api/auth/login", "/api/payments/42", "/api/authx", "/api/users"]) {
      const route = routeFor("shop.example.org", path)!;
      expect(route.replace(/^app-api-?/, "") || undefined).toBe(familyOfPath(path, apiFamilies));
    }
  });

  it("throttle auth per client (10 a minute, bursts of 5, 2 at a time) and cap every family's body size", () => {
    const mw = familyMiddlewareSpecs(site, "CF-Connecting-IP");
    const perClient = { requestHeaderName: "CF-Connecting-IP" };
    expect(mw["app-api-auth-rate-limit"]).toEqual({ rateLimit: { average: 10, period: "1m", burst: 5, sourceCriterion: perClient } });
    expect(mw["app-api-auth-in-flight"]).toEqual({ inFlightReq: { amount: 2, sourceCriterion: perClient } });
    expect(mw["app-api-auth-body-limit"]).toEqual({ buffering: { maxRequestBodyBytes: 16384, memRequestBodyBytes: 16384 } });
    expect(mw["app-api-payments-body-limit"]).toEqual({ buffering: { maxRequestBodyBytes: 32768, memRequestBodyBytes: 32768 } });
    expect(mw["app-api-transactions-body-limit"]).toEqual({ buffering: { maxRequestBodyBytes: 32768, memRequestBodyBytes: 32768 } });
    expect(Object.keys(mw).filter((k) => k.includes("payments"))).toEqual(["app-api-payments-body-limit"]);
  });

  it("chain throttling, limits, headers and no-store, in that order", () => {
    const auth = apiFamilies.find((f) => f.name === "auth")!;
    const users = apiFamilies.find((f) => f.name === "users")!;
    expect(familyMiddlewares(site, auth)).toEqual(["app-api-auth-rate-limit", "app-api-auth-in-flight", "app-api-auth-body-limit", "app-headers", MIDDLEWARES.noStore]);
    expect(familyMiddlewares(site, users)).toEqual([MIDDLEWARES.rateLimit, "app-api-users-body-limit", "app-headers", MIDDLEWARES.noStore]);
    expect(specs["app-api"].routes[0].middlewares.map((m: { name: string }) => m.name)).toEqual([MIDDLEWARES.rateLimit, "app-headers", MIDDLEWARES.noStore]);
  });

  it("keep the families' access logs on, above the site route's priority", () => {
    for (const [name, s] of Object.entries(specs)) {
      expect(s.routes[0].observability, name).toEqual({ accessLogs: true, metrics: true });
      expect(s.entryPoints).toEqual(["websecure"]);
    }
    expect(specs["app-api-auth"].routes[0].priority).toBe(ROUTE_PRIORITY.family);
    expect(specs["app-api"].routes[0].priority).toBe(ROUTE_PRIORITY.api);
  });

  it("add no API route to a site without an API", () => {
    expect(apiRouteSpecs({ ...site, apiPathPrefix: undefined, apiFamilies: undefined })).toEqual({});
  });

  it("refuse families the metrics could not name, or families without an API prefix", async () => {
    const bad: ApiFamily = { name: "pay", pathPrefix: "/api/payments", team: "payments", edge: {} };
    const run = (route: SiteRoute) =>
      planProgram("dev", async () => {
        new TraefikRoutes("routes", { namespace: "shop", labels: (n) => ({ name: n }), routes: [route], rateLimit: { average: 10, burst: 20 } });
        return {};
      });
    await expect(run({ ...site, apiFamilies: [bad] })).rejects.toThrow(/app: family "pay": pathPrefix must be \/api\/pay/);
    await expect(run({ ...site, apiPathPrefix: undefined })).rejects.toThrow(/app: API families need apiPathPrefix/);
    const plan = await run(site);
    const routes = ofType(plan, "kubernetes:traefik.io/v1alpha1:IngressRoute").map((r) => inputs(r).metadata.name).sort();
    expect(routes).toEqual(["app", "app-api", "app-api-auth", "app-api-payments", "app-api-transactions", "app-api-users"]);
    const noStore = ofType(plan, "kubernetes:traefik.io/v1alpha1:Middleware").find((m) => inputs(m).metadata.name === MIDDLEWARES.noStore)!;
    expect(inputs(noStore).spec.headers.customResponseHeaders).toEqual(NO_STORE_HEADERS);
  });
});

describe("Cloudflare rules of the API families", () => {
  it("never cache /api, nor anything below it, at the edge", () => {
    const bypass = cacheRules({ staticPrefix: "/_next/static/", apiPrefix: "/api/", edgeTtlSeconds: 31536000 }).find((r) => r.ref === "bypass_api")!;
    expect(bypass.expression).toBe('(http.request.uri.path eq "/api" or starts_with(http.request.uri.path, "/api/"))');
    expect(bypass.actionParameters).toEqual({ cache: false });
  });

  it("run the OWASP ruleset at high sensitivity on payments and transactions, and at its default elsewhere", () => {
    const strict = ["/api/transactions", "/api/payments"];
    const rules = managedWafRules(strict);
    const scope = strict.map(pathExpression).join(" or ");
    expect(rules.map((r) => [r.ref, r.expression])).toEqual([
      ["execute_cloudflare_managed", "true"],
      ["execute_owasp_core_strict", scope],
      ["execute_owasp_core", `not (${scope})`],
    ]);
    expect(rules[1].actionParameters).toEqual({
      id: MANAGED_RULESETS.owaspCore,
      overrides: { rules: [{ id: OWASP_ANOMALY_SCORE_RULE, action: "block", scoreThreshold: 25 }] },
    });
    // Without strict paths, one OWASP rule for everything, as before.
    expect(managedWafRules().map((r) => r.expression)).toEqual(["true", "true"]);
  });

  it("block a client after 10 failed sign-ins in a minute, for 10 minutes, on auth only", () => {
    const rules = bruteForceRules(apiFamilies);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      ref: "brute_force_auth",
      action: "block",
      expression: pathExpression("/api/auth"),
      ratelimit: {
        characteristics: ["cf.colo.id", "ip.src"],
        period: 60,
        requestsPerPeriod: 10,
        mitigationTimeout: 600,
        countingExpression: `${pathExpression("/api/auth")} and http.response.code in {401 403 429}`,
      },
    });
    expect(bruteForceRules(apiFamilies.filter((f) => f.name !== "auth"))).toEqual([]);
  });
});

describe.each(STACKS)("the %s plan's API edge", (stack) => {
  const ns = `diaspomoney-${stack}`;

  it("routes each family through its own IngressRoute, with the stack's app host", async () => {
    const plan = await cachedPlan(stack);
    for (const f of apiFamilies) {
      const route = inputs(k8sObject(plan, "IngressRoute", `app-api-${f.name}`, ns)).spec.routes[0];
      expect(route.match).toContain(`PathPrefix(\`${f.pathPrefix}/\`)`);
      expect(route.observability.accessLogs).toBe(true);
    }
    expect(inputs(k8sObject(plan, "Middleware", "app-api-auth-rate-limit", ns)).spec.rateLimit).toMatchObject({ average: 10, period: "1m", burst: 5 });
  });

  it("names the routers the edge-refusal anomaly rules count", async () => {
    const plan = await cachedPlan(stack);
    const rules = ofType(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((r) => inputs(r).spec.groups).flatMap((g: any) => g.rules);
    const refusals = rules.find((r: any) => r.record === anomalySeries(anomalySignals.find((s) => s.name === "edge_refusals")!).value);
    const pattern = familyRouterPattern(ns, "app", apiFamilies);
    expect(refusals.expr).toContain(`router=~"${pattern}"`);
    for (const f of apiFamilies) {
      // Traefik names a CRD router <namespace>-<IngressRoute>-<10 hex of its rule's hash>@kubernetescrd.
      const router = `${ns}-${inputs(k8sObject(plan, "IngressRoute", `app-api-${f.name}`, ns)).metadata.name}-0a1b2c3d4e@kubernetescrd`;
      expect(new RegExp(`^(?:${pattern})$`).exec(router)?.[1]).toBe(f.name);
    }
  });
});
