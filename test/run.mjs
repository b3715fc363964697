// `npm test`: the platform's suite, then the app's. The app's build (only when app/dist is missing or
// stale: app/scripts/ensure-build.mjs) does not need the platform's results, so it runs beside the
// platform's suite as an idle-priority job: it takes the cycles the suite leaves idle (its start-up,
// its waits on other processes) and has the machine to itself once the suite is done. At the same
// priority the two only slow each other down; at nice 19 the suite still lost about 3 s on 2 cores;
// under Linux's SCHED_IDLE policy (`chrt --idle`), which makes way for any other process at once,
// the loss averaged 1 to 2 s, within the ±4 s the suite varies by from run to run. The build's
// output is printed after the suite's.
// Exits with the first failure's code, as `vitest run && npm run -w app test` would.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants, setPriority } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const appDir = join(root, "app");
const LOWEST_PRIORITY = 19;

/** The vitest command the platform's `vitest run` would start. */
function vitest() {
  const pkg = createRequire(join(root, "package.json")).resolve("vitest/package.json");
  return join(dirname(pkg), JSON.parse(readFileSync(pkg, "utf8")).bin.vitest);
}

/** `chrt --idle 0`, where the system has it (util-linux): runs a command under SCHED_IDLE. */
const IDLE_POLICY = spawnSync("chrt", ["--idle", "0", "true"]).status === 0 ? ["chrt", "--idle", "0"] : [];

/**
 * Runs `command args` in `cwd`. A background run is an idle-priority job (see above) in a process group
 * of its own, its output collected.
 */
function run(command, args, cwd, background = false) {
  const [file, ...rest] = background ? [...IDLE_POLICY, command, ...args] : [command, ...args];
  const child = spawn(file, rest, { cwd, detached: background, stdio: background ? ["ignore", "pipe", "pipe"] : "inherit" });
  let output = "";
  if (background) {
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
  }
  const done = new Promise((resolve) => {
    child.on("error", (err) => resolve({ code: 1, output: `${output}${err.message}\n` }));
    child.on("close", (code, signal) => resolve({ code: code ?? 128 + (constants.signals[signal] ?? 0), output }));
  });
  return { child, done };
}

const build = run(process.execPath, [join(appDir, "scripts", "ensure-build.mjs")], appDir, true);
// Inherited, like the policy, by every process the build starts (npm, next build and its workers).
// Where there is no SCHED_IDLE, the lowest priority. On Linux a process group of its own is also a
// scheduling group of its own (autogroup), shared fairly with the suite's whatever its processes'
// policy: the group's priority is lowered too. Where a change is not permitted, it is not made.
try {
  setPriority(build.child.pid, LOWEST_PRIORITY);
} catch {}
try {
  writeFileSync(`/proc/${build.child.pid}/autogroup`, String(LOWEST_PRIORITY));
} catch {}
/** Stops the build and everything it started (its process group), if it still runs. */
const stopBuild = () => {
  try {
    process.kill(-build.child.pid, "SIGTERM");
  } catch {
    // already done
  }
};
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => (stopBuild(), process.exit(128 + constants.signals[signal])));

const platform = await run(process.execPath, [vitest(), "run"], root).done;
if (platform.code !== 0) {
  stopBuild();
  process.exit(platform.code);
}
const built = await build.done;
process.stdout.write(built.output);
if (built.code !== 0) process.exit(built.code);
// The app's own test script: its ensure-build finds dist/ fresh now and returns at once.
const app = await run("npm", ["run", "-s", "-w", "app", "test"], root).done;
process.exit(app.code);
