/** next build's own type check, as scripts/build.mjs runs it (see there). */
export declare const TYPE_CHECK_ARGS: readonly string[];
