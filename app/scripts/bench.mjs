// npm run bench: load-tests GET /api/health of the built server (dist/server.js) and, in the same
// run, a bare node:http server answering the same bytes, so the figures say what Next.js and our
// server cost on this machine rather than how fast the machine is.
//
// Each server runs in its own process pinned to one CPU core (taskset, when present), autocannon
// runs here on another. Loopback only. Prints req/s, p50/p95/p99 latency and the ratio to the
// baseline, and exits 1 when the objective (> 1000 req/s, p95 < 200 ms) is missed.
//
// BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50), BENCH_WARMUP (s, default 2).
import { spawn, spawnSync } from "node:child_process";
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
    child.stdout.on("data", (d) => {
      buf += d;
      for (const line of buf.split("\n")) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg === "listening") resolve({ name, child, port: entry.port });
        } catch {
          // partial or non-JSON line
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before listening`)));
    setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within 30 s`));
    }, 30_000).unref();
  });
}

function fetchBody(port) {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path: "/api/health" }, (res) => {
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

async function load(port, seconds, record) {
  const times = [];
  const instance = autocannon({ url: `http://127.0.0.1:${port}/api/health`, connections, duration: seconds });
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

const app = await start("next (dist/server.js)", [join(appDir, "dist", "server.js")], {
  NODE_ENV: "production",
  NEXT_TELEMETRY_DISABLED: "1",
  LISTEN_HOST: "127.0.0.1",
  PORT: "0",
});
const baseline = await start("node:http baseline", ["-e", BASELINE], {});
const results = [];
try {
  const [a, b] = await Promise.all([fetchBody(app.port), fetchBody(baseline.port)]);
  if (a !== b) throw new Error(`the two servers answer differently: ${a} vs ${b}`);
  console.log(`GET /api/health → ${a}; ${connections} connections, ${duration} s each after ${warmup} s warm-up; servers ${canPin ? "pinned to CPU 0" : "NOT pinned (no taskset)"}\n`);
  for (const target of [app, baseline]) {
    if (warmup > 0) await load(target.port, warmup, false);
    results.push({ name: target.name, ...(await load(target.port, duration, true)) });
  }
} finally {
  app.child.kill("SIGTERM");
  baseline.child.kill("SIGTERM");
}

const [n, base] = results;
const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.table(
  Object.fromEntries(
    results.map((r) => [
      r.name,
      { "req/s": Math.round(r.rps), p50: fmt(r.p50), p95: fmt(r.p95), p99: fmt(r.p99), requests: r.requests, "non-2xx": r.non2xx, errors: r.errors },
    ]),
  ),
);
const ok = n.rps > OBJECTIVE.rps && n.p95 < OBJECTIVE.p95Ms && n.errors === 0 && n.non2xx === 0;
console.log(`ratio to baseline: ${(n.rps / base.rps).toFixed(2)} of its throughput, p95 ${(n.p95 / base.p95).toFixed(1)}× its latency`);
console.log(`objective (> ${OBJECTIVE.rps} req/s, p95 < ${OBJECTIVE.p95Ms} ms, no error): ${ok ? "met" : "MISSED"}`);
process.exit(ok ? 0 : 1);
