// `npm run build`: the app (`next build`: .next/, standalone output), its type check and the emit of
// the custom server and the keys tool (scripts/emit-server.mjs: build/server/) side by side, then
// scripts/assemble.mjs, which puts the build and the server together into dist/.
//
// next build would type-check after compiling, then collect its pages: one core busy for 5 to 8 s on
// a 2-core machine, the other idle, in every build (a fresh clone's `npm test` waited for it). Here
// the same check runs beside the compile: `next typegen` writes the route types first (what next
// build writes before compiling), copied to build/types/ because next build empties .next/ when it
// starts, and `tsc` checks tsconfig.typecheck.json (tsconfig.json's files, with those route types);
// next build skips its own check (APP_BUILD_TYPECHECK=beside, read by next.config.mjs; a bare
// `next build` still checks). The emit needs nothing of next build either.
// The build fails if any of the three fails, once all are done: assemble does not run, dist/ is left
// as it was.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitServer } from "./emit-server.mjs";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const resolve = createRequire(import.meta.url).resolve;
const NEXT = resolve("next/dist/bin/next");
const TSC = resolve("typescript/bin/tsc");

/** Runs `node script args` in the app's folder; resolves to its exit code. */
function node(script, args, env = {}) {
  const child = spawn(process.execPath, [script, ...args], { cwd: appDir, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env } });
  return new Promise((resolve) => {
    child.on("error", (err) => (console.error(err.message), resolve(1)));
    child.on("close", (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

const exit = (code) => process.exit(code);

// The route types, where the check can read them while next build rewrites .next/.
const typegen = await node(NEXT, ["typegen"]);
if (typegen !== 0) exit(typegen);
const types = join(appDir, "build", "types");
rmSync(types, { recursive: true, force: true });
cpSync(join(appDir, ".next", "types"), types, { recursive: true });
const nextEnv = readFileSync(join(appDir, "next-env.d.ts"), "utf8");
if (!nextEnv.includes('"./.next/types/')) exit((console.error("next-env.d.ts no longer imports ./.next/types/: update scripts/build.mjs"), 1));
mkdirSync(dirname(types), { recursive: true });
writeFileSync(join(appDir, "build", "next-env.d.ts"), nextEnv.replaceAll('"./.next/types/', '"./types/'));

const nextBuild = node(NEXT, ["build"], { APP_BUILD_TYPECHECK: "beside" });
const typecheck = node(TSC, ["--noEmit", "-p", "tsconfig.typecheck.json"]);
let emitFailure;
try {
  emitServer(join(appDir, "tsconfig.server.json"));
} catch (err) {
  emitFailure = err;
}
const [nextCode, typecheckCode] = await Promise.all([nextBuild, typecheck]);
if (emitFailure) console.error(`emit-server: ${emitFailure.message}`);
if (typecheckCode !== 0) console.error("type check failed (tsc -p tsconfig.typecheck.json): the build stops here");
if (nextCode !== 0) exit(nextCode);
if (typecheckCode !== 0) exit(typecheckCode);
if (emitFailure) exit(1);
exit(await node(join(appDir, "scripts", "assemble.mjs"), []));
