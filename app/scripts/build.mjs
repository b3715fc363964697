// `npm run build`, in two steps of two jobs each:
//  1. `next build` (.next/: the app, standalone output) beside the emit of the custom server and the
//     keys tool (scripts/emit-server.mjs: build/server/). The emit reads the same sources and writes
//     apart: beside next build it takes cycles next build leaves idle (after it, 1 to 2 s on one core).
//  2. The type check beside scripts/assemble.mjs, which puts both outputs together. The type check is
//     next build's own (the same tsc command, on tsconfig.json, which includes the route types next
//     build writes: hence after it), moved out of next build (NEXT_BUILD_TYPE_CHECK, read by
//     next.config.mjs): inside it, it ran on one core for 5 to 7 s while everything after it waited.
//     Assembly goes into a folder beside dist/, swapped in only once both have passed.
// The build fails if any job fails, each step once both of its jobs are done: dist/ is then left as it
// was (a type, emit or assembly error never replaces it, nor leaves a half-assembled one).
import { spawn } from "node:child_process";
import { renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitServer } from "./emit-server.mjs";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
/**
 * next build's own type check (next/dist/lib/typescript/runTypeCheckCli.js, for a tsconfig.json
 * without `incremental`), run here instead: test/typecheck-config.test.ts holds it to Next's.
 */
export const TYPE_CHECK_ARGS = ["--project", "tsconfig.json", "--noEmit", "--declarationMap", "false", "--emitDeclarationOnly", "false"];
const require = createRequire(import.meta.url);
const dist = join(appDir, "dist");
const assembled = join(appDir, "dist.assembling");

/** Runs `node script args` in the app's folder with the build's environment and `env`; resolves to its exit code. */
function node(script, args, env = {}) {
  const child = spawn(process.execPath, [script, ...args], { cwd: appDir, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env } });
  return new Promise((resolve) => {
    child.on("error", (err) => (console.error(err.message), resolve(1)));
    child.on("close", (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

/** The first failure's exit code, or 0. */
const firstFailure = (codes) => codes.find((code) => code !== 0) ?? 0;

/** The build; resolves to its exit code. */
async function build() {
  const nextBuild = node(require.resolve("next/dist/bin/next"), ["build"], { NEXT_BUILD_TYPE_CHECK: "beside" });
  let emitFailure;
  try {
    emitServer(join(appDir, "tsconfig.server.json"));
  } catch (err) {
    emitFailure = err;
  }
  const nextCode = await nextBuild;
  if (emitFailure) console.error(`emit-server: ${emitFailure.message}`);
  if (nextCode !== 0) return nextCode;
  if (emitFailure) return 1;

  rmSync(assembled, { recursive: true, force: true });
  const codes = await Promise.all([
    node(require.resolve("typescript/bin/tsc"), TYPE_CHECK_ARGS),
    node(join(appDir, "scripts", "assemble.mjs"), [assembled]),
  ]);
  if (firstFailure(codes) !== 0) {
    if (codes[0] !== 0) console.error("build: the type check failed (above); dist/ left as it was");
    rmSync(assembled, { recursive: true, force: true });
    return firstFailure(codes);
  }
  rmSync(dist, { recursive: true, force: true });
  renameSync(assembled, dist);
  console.log("built dist/: node dist/server.js");
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(await build());
