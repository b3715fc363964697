// The app's TypeScript compiler: TypeScript 7, the native one. Its npm package is a small Node.js
// wrapper (lib/tsc.js) that starts a Go binary from @typescript/typescript-<platform>-<arch>; it
// type-checks the app in about 1.6 CPU-s where TypeScript 5.9 took 8, and has no programmatic API, so
// everything here runs its command line, as Next.js does (`experimental.useTypeScriptCli`, Next.js's
// default). The scripts start the binary itself, as the wrapper would: one process, not two (the
// wrapper's Node.js start is about 0.1 CPU-s), which a stop reaches. The binary ignores SIGTERM and
// SIGINT: stop it with SIGKILL.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const packageJson = createRequire(import.meta.url).resolve("typescript/package.json");
const packageDir = dirname(packageJson);
const pkg = JSON.parse(readFileSync(packageJson, "utf8"));

/** The installed TypeScript's version. */
export const TYPESCRIPT_VERSION = pkg.version;

/** The native compiler the package's wrapper starts, found as the wrapper finds it (lib/getExePath.js). */
export const TSC_EXE = (await import(pathToFileURL(join(packageDir, "lib", "getExePath.js")).href)).default();

/**
 * Runs `tsc args` in `cwd` and waits for it. Returns its exit status and its output (stdout, then
 * stderr), diagnostics unformatted (`--pretty false`: one line each, `file(line,col): error TSnnnn`).
 */
export function tsc(args, cwd) {
  const run = spawnSync(TSC_EXE, [...args, "--pretty", "false"], { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  return { status: run.status ?? 1, output: `${run.stdout}${run.stderr}`.trim() };
}
