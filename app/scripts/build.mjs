// `npm run build`: `next build` (.next/: the app, type-checked, standalone output) and the emit of the
// custom server and the keys tool (scripts/emit-server.mjs: build/server/) side by side, then
// scripts/assemble.mjs, which puts both together into dist/. The emit reads the same sources as next
// build and writes apart from it: after next build, it was one more step the build waited for, on one
// core (1 to 2 s), where beside next build it takes cycles next build leaves idle.
// The build fails if either fails, once both are done (a type error fails next build; the emit then
// has written build/server/ for nothing, and assemble does not run): dist/ is left as it was.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitServer } from "./emit-server.mjs";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Runs `node script args` in the app's folder with the build's environment; resolves to its exit code. */
function node(script, ...args) {
  const child = spawn(process.execPath, [script, ...args], { cwd: appDir, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  return new Promise((resolve) => {
    child.on("error", (err) => (console.error(err.message), resolve(1)));
    child.on("close", (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

const nextBuild = node(createRequire(import.meta.url).resolve("next/dist/bin/next"), "build");
let emitFailure;
try {
  emitServer(join(appDir, "tsconfig.server.json"));
} catch (err) {
  emitFailure = err;
}
const nextCode = await nextBuild;
if (emitFailure) console.error(`emit-server: ${emitFailure.message}`);
if (nextCode !== 0) process.exit(nextCode);
if (emitFailure) process.exit(1);
process.exit(await node(join(appDir, "scripts", "assemble.mjs")));
