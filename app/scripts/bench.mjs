// npm run bench: load-tests the built server (dist/server.js) on two paths, side by side with a bare
// node:http server answering the liveness bytes, in one run, so the figures say what our server and
// Next.js cost on this machine rather than how fast the machine is:
//  - GET /api/health, liveness, answered by our server before Next.js;
//  - GET /, the home page, through Next.js's whole pipeline: the objective (> 1000 req/s, p95 < 200 ms)
//    applies to it, and the bench exits 1 when it is missed or any request fails.
// BENCH_PREVIOUS_DIST=<path to another build's server.js> adds that build's /api/health, to compare.
//
// Each server runs in its own process pinned to one CPU core (taskset, when present), autocannon
// runs here on another. Loopback only. Prints req/s, p50/p95/p99 latency and the ratio to the baseline.
//
// BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50), BENCH_WARMUP (s, default 2).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);
const OBJECTIVE = { rps: 1000, p95Ms: 200 };

const canPin = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
const pinned = (args) => (canPin ? ["taskset", ["-c", "0", process.execPath, ...args]] : [process.execPath, args]);

const BASELINE = `
const body = JSON.stringify({ status: "ok" });
const server = require("node:http").createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(body);
});
server.keepAliveTimeout = 95000;
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ msg: "listening", port: server.address().port })));
`;

function start(name, args, env) {
  const [cmd, argv] = pinned(args);
  const child = spawn(cmd, argv, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within 30 s`));
    }, 30_000);
    const onData = (d) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop();
      for (const line of lines) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg !== "listening") continue;
          clearTimeout(timer);
          // Keep reading (a full pipe would stall the server) but stop parsing its access log.
          child.stdout.off("data", onData);
          child.stdout.resume();
          resolve({ name, child, port: entry.port });
          return;
        } catch {
          // a non-JSON line
        }
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before listening`)));
  });
}

function fetchBody(port, path = "/api/health") {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    })
      .on("error", reject)
      .end();
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function load(port, path, seconds, record) {
  const times = [];
  const instance = autocannon({ url: `http://127.0.0.1:${port}${path}`, connections, duration: seconds });
  if (record) instance.on("response", (_client, _status, _bytes, responseTime) => times.push(responseTime));
  const result = await instance;
  times.sort((a, b) => a - b);
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
  };
}

// A throwaway local-KMS keyring: the server refuses to start without field encryption.
const keys = JSON.parse(execFileSync(process.execPath, [join(appDir, "dist", "keys.js"), "dev-env"], { encoding: "utf8" }));
const serverEnv = { NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LISTEN_HOST: "127.0.0.1", PORT: "0", METRICS_PORT: "0", ...keys };

const app = await start("dist/server.js", [join(appDir, "dist", "server.js")], serverEnv);
const baseline = await start("node:http baseline", ["-e", BASELINE], {});
const previous = process.env.BENCH_PREVIOUS_DIST ? await start("previous build", [process.env.BENCH_PREVIOUS_DIST], serverEnv) : undefined;
const targets = [
  { name: "liveness /api/health (before Next.js)", server: app, path: "/api/health" },
  { name: "Next.js route / (home page)", server: app, path: "/" },
  ...(previous ? [{ name: "previous build /api/health", server: previous, path: "/api/health" }] : []),
  { name: "bare node:http, liveness bytes", server: baseline, path: "/api/health" },
];
const results = [];
try {
  const [a, b] = await Promise.all([fetchBody(app.port), fetchBody(baseline.port)]);
  if (a !== b) throw new Error(`the two servers answer differently: ${a} vs ${b}`);
  const home = await fetchBody(app.port, "/");
  if (!home.startsWith("200 ")) throw new Error(`GET / answered ${home.slice(0, 80)}`);
  console.log(`GET /api/health → ${a}; ${connections} connections, ${duration} s each after ${warmup} s warm-up; servers ${canPin ? "pinned to CPU 0" : "NOT pinned (no taskset)"}\n`);
  for (const target of targets) {
    if (warmup > 0) await load(target.server.port, target.path, warmup, false);
    results.push({ name: target.name, ...(await load(target.server.port, target.path, duration, true)) });
  }
} finally {
  for (const s of [app, baseline, previous]) s?.child.kill("SIGTERM");
}

const byName = Object.fromEntries(results.map((r) => [r.name, r]));
const live = byName[targets[0].name];
const page = byName[targets[1].name];
const base = byName[targets[targets.length - 1].name];
const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.table(
  Object.fromEntries(
    results.map((r) => [
      r.name,
      {
        "req/s": Math.round(r.rps),
        p50: fmt(r.p50),
        p95: fmt(r.p95),
        p99: fmt(r.p99),
        "× baseline": (r.rps / base.rps).toFixed(2),
        requests: r.requests,
        "non-2xx": r.non2xx,
        errors: r.errors,
      },
    ]),
  ),
);
const ok = page.rps > OBJECTIVE.rps && page.p95 < OBJECTIVE.p95Ms && results.every((r) => r.errors === 0 && r.non2xx === 0);
console.log(`liveness: ${(live.rps / page.rps).toFixed(1)}× the Next.js route's throughput, ${(live.rps / base.rps).toFixed(2)} of the bare baseline's`);
console.log(`objective for the Next.js route (> ${OBJECTIVE.rps} req/s, p95 < ${OBJECTIVE.p95Ms} ms, no error): ${ok ? "met" : "MISSED"}`);
process.exit(ok ? 0 : 1);
