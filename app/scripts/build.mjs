// `npm run build`: next build, the emit of the custom server and the keys tool, the type check and the
// assembly of dist/, each started as soon as what it reads is there:
//  - `next build` (.next/: the app, standalone output; Turbopack's build cache only on a rebuild, see
//    next.config.mjs) beside the emit of the custom server and the keys tool
//    (scripts/emit-server.mjs: build/server/). The emit reads the same sources and writes apart:
//    beside next build it takes cycles next build leaves idle (after it, 1 to 2 s on one core).
//  - The type check, next build's own (the same tsc command, on tsconfig.json, which includes the route
//    types next build writes; TypeScript 7's native tsc, scripts/tsc.mjs, about 1.6 CPU-s), moved out
//    of next build (NEXT_BUILD_TYPE_CHECK, read by next.config.mjs): inside it, TypeScript 5.9's check
//    ran alone on one core for 5 to 7 s while everything after it waited. It starts once
//    next build says it has written the route types (ROUTE_TYPES_WRITTEN, before its compilation:
//    nothing else the check reads is written after that, but next-env.d.ts when Next.js finds it out
//    of date, which the committed one is not), and runs beside the compilation; if next build never
//    says so, once next build is done.
//  - scripts/assemble.mjs, once next build and the emit are done, puts both outputs together in a
//    folder beside dist/, swapped in only once the type check has passed too.
// The build fails if any job fails: dist/ is then left as it was (a type, emit or assembly error never
// replaces it, nor leaves a half-assembled one).
import { spawn } from "node:child_process";
import { existsSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitServer } from "./emit-server.mjs";
import { TSC_EXE } from "./tsc.mjs";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
/**
 * next build's own type check (next/dist/lib/typescript/runTypeCheckCli.js, for a tsconfig.json
 * without `incremental`), run here instead: test/typecheck-config.test.ts holds it to Next's.
 */
export const TYPE_CHECK_ARGS = ["--project", "tsconfig.json", "--noEmit", "--declarationMap", "false", "--emitDeclarationOnly", "false"];
const require = createRequire(import.meta.url);
const dist = join(appDir, "dist");
const assembled = join(appDir, "dist.assembling");

/**
 * What next build prints once it has written the route types (.next/types/), in
 * next/dist/build/index.js: after its `generate-route-types` step, before it compiles.
 * test/typecheck-config.test.ts holds it to Next's source.
 */
export const ROUTE_TYPES_WRITTEN = "Creating an optimized production build";

/**
 * Whether next build writes Turbopack's build cache: only where a build has been made before (dist/
 * is there), where the next rebuild will read it. A first build (a fresh clone, CI, the image's build)
 * is usually the only one.
 */
export const writesBuildCache = (appDir) => existsSync(join(appDir, "dist"));

/**
 * Runs `file args` in the app's folder with the build's environment and `env`. `done` resolves to its
 * exit code. With `onOutput`, its standard output is passed through and each chunk of it, with what
 * came before, handed to `onOutput`.
 */
function run(file, args, env = {}, onOutput) {
  const child = spawn(file, args, {
    cwd: appDir,
    stdio: ["inherit", onOutput ? "pipe" : "inherit", "inherit"],
    // Piped through here, its output keeps the colours it has in a terminal where ours is one.
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...(onOutput && process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}), ...env },
  });
  if (onOutput) {
    let seen = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      seen += chunk;
      onOutput(seen);
    });
  }
  const done = new Promise((resolve) => {
    child.on("error", (err) => (console.error(err.message), resolve(1)));
    child.on("close", (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
  return { child, done };
}

/** Runs `node script args` as run() does. */
const node = (script, args, env, onOutput) => run(process.execPath, [script, ...args], env, onOutput);

/** The first failure's exit code, or 0. */
const firstFailure = (codes) => codes.find((code) => code !== 0) ?? 0;

/** The build; resolves to its exit code. */
async function build() {
  let typeCheck;
  const startTypeCheck = () => (typeCheck ??= run(TSC_EXE, TYPE_CHECK_ARGS));
  // The native tsc ignores SIGTERM and SIGINT (scripts/tsc.mjs): a build stopped by either stops it.
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => (typeCheck?.child.kill("SIGKILL"), process.exit(128 + constants.signals[signal])));
  const nextBuild = node(require.resolve("next/dist/bin/next"), ["build"], { NEXT_BUILD_TYPE_CHECK: "beside", NEXT_BUILD_CACHE: writesBuildCache(appDir) ? "write" : "skip" }, (output) => {
    if (output.includes(ROUTE_TYPES_WRITTEN)) startTypeCheck();
  });
  let emitFailure;
  try {
    emitServer(join(appDir, "tsconfig.server.json"));
  } catch (err) {
    emitFailure = err;
  }
  const nextCode = await nextBuild.done;
  if (emitFailure) console.error(`emit-server: ${emitFailure.message}`);
  if (nextCode !== 0 || emitFailure) {
    // Its result no longer matters, and it would print after the build's end.
    typeCheck?.child.kill("SIGKILL");
    await typeCheck?.done;
    return nextCode || 1;
  }

  rmSync(assembled, { recursive: true, force: true });
  const codes = await Promise.all([startTypeCheck().done, node(join(appDir, "scripts", "assemble.mjs"), [assembled]).done]);
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
