import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Maps a request path to the route pattern Next.js serves it with (`/api/health`,
 * `/users/[id]`), so the `route` label of the request histogram has one value per route of the app
 * rather than one per URL: a client requesting random paths cannot create new series.
 */
export type RouteLabeler = (url: string | undefined) => string;

interface ManifestRoute {
  page: string;
  regex: string;
}

/** Label of every path that no route of the app serves (404s). */
export const UNMATCHED = "unmatched";

export function routeLabeler(routes: ManifestRoute[]): RouteLabeler {
  const compiled = routes.map((r) => ({ page: r.page, re: new RegExp(r.regex) }));
  return (url) => {
    const path = (url ?? "/").split("?", 1)[0];
    if (path.startsWith("/_next/")) {
      const area = path.split("/", 3)[2];
      return area === "static" || area === "image" || area === "data" ? `/_next/${area}` : "/_next";
    }
    for (const { page, re } of compiled) if (re.test(path)) return page;
    return UNMATCHED;
  };
}

/** Reads the routes of a built app from `<dir>/.next/routes-manifest.json`. */
export function routeLabelerFromBuild(dir: string): RouteLabeler {
  const manifest = JSON.parse(readFileSync(join(dir, ".next", "routes-manifest.json"), "utf8")) as {
    staticRoutes?: ManifestRoute[];
    dynamicRoutes?: ManifestRoute[];
  };
  // Static routes first: `/users/me` wins over `/users/[id]`, as in Next.js's own matching.
  return routeLabeler([...(manifest.staticRoutes ?? []), ...(manifest.dynamicRoutes ?? [])]);
}
