/** See tsc.mjs. */
export declare const TYPESCRIPT_VERSION: string;
/** The wrapper script Next.js runs for tsc (see tsc.mjs). */
export declare const TSC: string;
/** The native compiler the wrapper starts (see tsc.mjs). */
export declare const TSC_EXE: string;
/** Runs `tsc args` in `cwd` (see tsc.mjs). */
export declare function tsc(args: readonly string[], cwd: string): { status: number; output: string };
