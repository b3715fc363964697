/** See tsc.mjs. */
export declare const TYPESCRIPT_VERSION: string;
/** The native compiler the package's wrapper starts (see tsc.mjs). */
export declare const TSC_EXE: string;
/** Runs `tsc args` in `cwd` (see tsc.mjs). */
export declare function tsc(args: readonly string[], cwd: string): { status: number; output: string };
