/** next build's own type check, as scripts/build.mjs runs it (see there). */
export declare const TYPE_CHECK_ARGS: readonly string[];
/** What next build prints once it has written the route types, which scripts/build.mjs waits for (see there). */
export declare const ROUTE_TYPES_WRITTEN: string;
/** Whether the build in `appDir` writes Turbopack's build cache (see scripts/build.mjs). */
export declare function writesBuildCache(appDir: string): boolean;
