/**
 * The serving half of the server (server.ts is the entry point): Next.js's request handler inside
 * our own HTTP server, the metrics listener, field encryption loaded, and the drain on SIGTERM.
 * server.ts loads this module only once every setting has been checked: Next.js, the database
 * drivers and the metrics client it brings in are most of the start-up's time.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import next from "next";
import { drainable } from "./lib/drain";
import { fieldEncryptionFromEnv, installFieldEncryption } from "./lib/field-encryption";
import { createMetricsListener, createRequestListener } from "./lib/http-app";
import { beginShutdown, isShuttingDown } from "./lib/lifecycle";
import { createLogger } from "./lib/log";
import { webMetrics } from "./lib/metrics";
import { routeLabelerFromBuild } from "./lib/routes";
import { closeRuntime, runtime } from "./lib/runtime";
import { sentry } from "./lib/sentry";
import type { ServerSettings } from "./lib/settings";

const log = createLogger("server");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/** Loads field encryption and Next.js, then listens; `dir` is the standalone folder (dist/). */
export async function serve(dir: string, settings: ServerSettings): Promise<void> {
  const { readiness } = runtime();
  const metrics = webMetrics();

  // Every data key is unwrapped and checked now: a bad key or an unreachable KMS fails the start.
  const fieldEncryption = fieldEncryptionFromEnv(process.env, {
    onUse: (u) => metrics.fieldEncryption.inc({ operation: u.operation, purpose: u.purpose, key_id: u.keyId, outcome: u.ok ? "ok" : "error" }),
  });
  await fieldEncryption.load();
  installFieldEncryption(fieldEncryption);
  log.info("field encryption ready", fieldEncryption.describe());

  // The build's resolved configuration: the standalone folder has no next.config to load.
  const { config } = JSON.parse(readFileSync(join(dir, ".next", "required-server-files.json"), "utf8"));
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(config);
  const app = next({ dev: false, dir, conf: config, hostname: settings.host, port: settings.port, quiet: true });
  await app.prepare();

  const server = createServer(
    {
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // How often the two timeouts above are enforced (Node's default, 30 s, adds up to that much).
      connectionsCheckingInterval: 1000,
    },
    createRequestListener({
      handle: app.getRequestHandler(),
      routeOf: routeLabelerFromBuild(dir),
      metrics,
      accessLog: createLogger("http"),
      onHandlerError(err, req) {
        log.error("request handler failed", { err, path: req.url?.split("?", 1)[0] });
        void sentry().captureException(err, { tags: { method: req.method ?? "" } });
      },
    }),
  );
  const drain = drainable(server, { idleGraceMs: settings.shutdownIdleGraceMs });
  const metricsServer = createServer({ headersTimeout: 5000, requestTimeout: 10_000 }, createMetricsListener(metrics, readiness));

  const shutdown = async (signal: NodeJS.Signals) => {
    if (isShuttingDown()) return;
    beginShutdown();
    metrics.ready.set(0);
    const deadline = setTimeout(() => {
      log.error("shutdown deadline passed: closing remaining connections", { shutdownTimeoutMs: settings.shutdownTimeoutMs });
      server.closeAllConnections();
      process.exit(1);
    }, settings.shutdownTimeoutMs);
    deadline.unref();
    // Readiness answers 503 from now on, while the listener still accepts: whatever routes traffic
    // here sees the pod unready before its connections are refused.
    log.info("shutdown requested", { signal, delayMs: settings.shutdownDelayMs });
    if (settings.shutdownDelayMs > 0) await sleep(settings.shutdownDelayMs);
    const drained = drain.close();
    // Logged once the listener is closed: whoever reads this line can rely on it.
    log.info("shutting down", { signal, shutdownTimeoutMs: settings.shutdownTimeoutMs });
    await drained;
    await Promise.allSettled([app.close(), closeRuntime()]);
    metricsServer.closeAllConnections();
    metricsServer.close();
    log.info("stopped", { signal });
    process.exit(0);
  };
  process.on("SIGTERM", (s) => void shutdown(s));
  process.on("SIGINT", (s) => void shutdown(s));

  const [port, metricsPort] = await Promise.all([listen(server, settings.port, settings.host), listen(metricsServer, settings.metricsPort, settings.host)]);
  log.info("listening", { host: settings.host, port, metricsPort, node: process.version, sentry: sentry().enabled });
}
