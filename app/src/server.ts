/**
 * The production entry point: Next.js's request handler inside our own HTTP server, so that
 *  - every request, including those Next.js answers itself (404s, static files), is timed into the
 *    `http_request_duration_seconds` histogram with its route pattern, method and status;
 *  - SIGTERM drains: readiness fails at once, the listener closes, requests in flight finish, the
 *    database clients close, then the process exits 0 (Next.js's own standalone server exits at
 *    once on SIGTERM and cuts requests in flight);
 *  - logs are JSON lines and fatal errors go to Sentry.
 * It is compiled with tsc (tsconfig.server.json) and run from the assembled standalone folder
 * (dist/), next to the `.next` build it serves.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { format } from "node:util";
import next from "next";
import { beginShutdown, isShuttingDown } from "./lib/lifecycle";
import { createLogger } from "./lib/log";
import { methodLabel, webMetrics } from "./lib/metrics";
import { routeLabelerFromBuild } from "./lib/routes";
import { closeRuntime } from "./lib/runtime";
import { sentry } from "./lib/sentry";

const log = createLogger("server");

// Next.js and the drivers write to the console (startup notices, "⨯ Error ..." for failed
// renders): turned into JSON lines too, so that every line on stdout is one structured record.
const nextLog = createLogger("next");
const plain = (args: unknown[]) => format(...args).replace(/\u001b\[[0-9;]*m/g, "");
console.log = console.info = (...args: unknown[]) => nextLog.info(plain(args));
console.debug = (...args: unknown[]) => nextLog.debug(plain(args));
console.warn = (...args: unknown[]) => nextLog.warn(plain(args));
console.error = (...args: unknown[]) => nextLog.error(plain(args));

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Paths probed every few seconds: timed like any request but not written to the access log. */
const QUIET_ROUTES = new Set(["/api/health", "/api/health/ready", "/api/monitoring/metrics"]);

async function main(): Promise<void> {
  const dir = __dirname;
  process.chdir(dir);
  const port = intFromEnv("PORT", 3000);
  // Not HOSTNAME: Kubernetes sets it to the pod name, which would bind the pod IP only.
  const host = process.env.LISTEN_HOST || "0.0.0.0";
  // Longer than the idle timeout of the proxy in front (Traefik keeps idle backend connections
  // 90 s): the proxy, not the app, must be the one closing an idle connection, or a request sent
  // on a connection the app is closing fails with a 502.
  const keepAliveTimeoutMs = intFromEnv("KEEP_ALIVE_TIMEOUT_MS", 95_000);
  const shutdownTimeoutMs = intFromEnv("SHUTDOWN_TIMEOUT_MS", 25_000);

  // The build's resolved configuration: the standalone folder has no next.config to load.
  const { config } = JSON.parse(readFileSync(join(dir, ".next", "required-server-files.json"), "utf8"));
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(config);

  const app = next({ dev: false, dir, conf: config, hostname: host, port, quiet: true });
  await app.prepare();
  const handle = app.getRequestHandler();
  const routeOf = routeLabelerFromBuild(dir);
  const { httpDuration } = webMetrics();
  const accessLog = createLogger("http");

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    // Requests still arriving on a kept-alive connection during shutdown get their answer, and
    // the connection is closed after it.
    if (isShuttingDown()) res.setHeader("connection", "close");
    res.once("close", () => {
      // A connection that was busy when shutdown began is closed as soon as it turns idle.
      if (isShuttingDown()) setImmediate(() => server.closeIdleConnections());
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req.url);
      // 499 (nginx's convention): the client went away before the response was complete.
      const status = res.writableFinished ? String(res.statusCode) : "499";
      httpDuration.observe({ route, method: methodLabel(req.method), status }, seconds);
      if (!QUIET_ROUTES.has(route)) {
        accessLog.info("request", { method: req.method, route, path: req.url?.split("?", 1)[0], status: Number(status), durationMs: Math.round(seconds * 1000) });
      }
    });
    handle(req, res).catch((err: unknown) => {
      log.error("request handler failed", { err, path: req.url?.split("?", 1)[0] });
      void sentry().captureException(err, { tags: { method: req.method ?? "" } });
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end("Internal Server Error");
      } else res.destroy();
    });
  };

  const server = createServer({ keepAliveTimeout: keepAliveTimeoutMs }, onRequest);
  server.headersTimeout = keepAliveTimeoutMs + 1000;

  const shutdown = (signal: NodeJS.Signals) => {
    if (isShuttingDown()) return;
    beginShutdown();
    const deadline = setTimeout(() => {
      log.error("shutdown deadline passed: closing remaining connections", { shutdownTimeoutMs });
      server.closeAllConnections();
      process.exit(1);
    }, shutdownTimeoutMs);
    deadline.unref();
    // Stops accepting connections; the callback runs once every in-flight request is answered.
    server.close(async () => {
      await Promise.allSettled([app.close(), closeRuntime()]);
      log.info("stopped", { signal });
      process.exit(0);
    });
    server.closeIdleConnections();
    // Logged once the listener is closed: whoever reads this line can rely on it.
    log.info("shutting down", { signal, shutdownTimeoutMs });
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  log.info("listening", {
    host,
    port: typeof address === "object" && address ? address.port : port,
    node: process.version,
    sentry: sentry().enabled,
  });
}

async function fatal(kind: string, err: unknown): Promise<never> {
  log.fatal(kind, { err });
  await sentry().captureException(err, { tags: { kind } });
  process.exit(1);
}

process.on("uncaughtException", (err) => void fatal("uncaught exception", err));
process.on("unhandledRejection", (err) => void fatal("unhandled rejection", err));

main().catch((err) => fatal("startup failed", err));
