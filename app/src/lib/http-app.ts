import type { IncomingMessage, ServerResponse } from "node:http";
import { liveness, readiness, type HealthAnswer } from "./health";
import { isShuttingDown } from "./lifecycle";
import type { Logger } from "./log";
import { methodLabel, type WebMetrics } from "./metrics";
import { classify, LIVENESS_PATH, READINESS_PATH } from "./request-gate";
import type { RouteLabeler } from "./routes";

/**
 * Security headers on every response of the app, whatever answers it (the server or Next.js):
 * defence in depth behind the edge, which sets the same (components/traefik.ts), for any path
 * that reaches a pod without it (port-forward, a misrouted Service, a future second ingress).
 * The Content-Security-Policy here only restricts what cannot break the pages (framing, base,
 * forms, plugins); the edge's fuller policy replaces it there.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), usb=(), payment=(self)",
  "content-security-policy": "base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Route label of requests refused before Next.js (see request-gate.ts). */
export const REJECTED = "rejected";

/** Probes, timed like any request but kept out of the access log. */
const QUIET_ROUTES = new Set([LIVENESS_PATH, READINESS_PATH]);

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error" };

export interface RequestListenerOptions {
  /** Next.js's request handler. */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  routeOf: RouteLabeler;
  metrics: WebMetrics;
  accessLog: Logger;
  /** A failure of `handle` itself (not of a route: Next.js answers those). */
  onHandlerError: (err: unknown, req: IncomingMessage) => void;
  /** Readiness answer; default the process's (health.ts). */
  readiness?: () => Promise<HealthAnswer>;
}

function sendJson(req: IncomingMessage, res: ServerResponse, { status, body }: HealthAnswer): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(payload) });
  res.end(req.method === "HEAD" ? undefined : payload);
}

function sendText(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  const payload = `${STATUS_TEXT[status] ?? "Error"}\n`;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(payload), ...extra });
  res.end(payload);
}

/**
 * The public listener's request handler: security headers, the gate (probes and refusals answered
 * here), then Next.js; every request timed into the histogram with the route label of the URL the
 * client sent (Next.js rewrites `req.url` while it routes).
 */
export function createRequestListener(opts: RequestListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { handle, routeOf, metrics, accessLog } = opts;
  const ready = opts.readiness ?? readiness;

  return (req, res) => {
    const started = process.hrtime.bigint();
    const target = req.url;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // Requests still arriving on a kept-alive connection during shutdown get their answer, and
    // the connection is closed after it.
    if (isShuttingDown()) res.setHeader("connection", "close");

    const verdict = classify(req.method, target);
    const route = verdict.kind === "reject" ? REJECTED : verdict.kind === "liveness" ? LIVENESS_PATH : verdict.kind === "readiness" ? READINESS_PATH : routeOf(target);

    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // 499 (nginx's convention): the client went away before the response was complete.
      const status = res.writableFinished ? String(res.statusCode) : "499";
      metrics.httpDuration.observe({ route, method: methodLabel(req.method), status }, seconds);
      if (!QUIET_ROUTES.has(route)) {
        accessLog.info("request", {
          method: req.method,
          route,
          // The refused target itself is not logged: it may be anything a client sends.
          path: verdict.kind === "reject" ? undefined : target?.split("?", 1)[0],
          reason: verdict.kind === "reject" ? verdict.reason : undefined,
          status: Number(status),
          durationMs: Math.round(seconds * 1000),
        });
      }
    });

    switch (verdict.kind) {
      case "reject":
        // A client that sends such targets gets no second chance on this connection.
        if (verdict.status === 400) res.setHeader("connection", "close");
        sendText(res, verdict.status, verdict.allow ? { allow: verdict.allow } : {});
        return;
      case "liveness":
        sendJson(req, res, liveness());
        return;
      case "readiness":
        ready().then(
          (answer) => sendJson(req, res, answer),
          (err: unknown) => {
            opts.onHandlerError(err, req);
            if (!res.headersSent) sendJson(req, res, { status: 503, body: { status: "error" } });
          },
        );
        return;
      case "app":
        handle(req, res).catch((err: unknown) => {
          opts.onHandlerError(err, req);
          if (!res.headersSent) sendText(res, 500);
          else res.destroy();
        });
    }
  };
}

/**
 * The metrics listener (METRICS_PORT): `GET /metrics` and nothing else. Only the scraper's
 * NetworkPolicy reaches that port, and the public route no longer exists. Each scrape refreshes
 * the dependency gauges (through the readiness cache), so alerts do not depend on probe traffic.
 */
export function createMetricsListener(metrics: WebMetrics, refresh: () => Promise<unknown>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) return sendText(res, 404);
    refresh()
      .catch(() => undefined)
      .then(() => metrics.registry.metrics())
      .then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        () => sendText(res, 500),
      );
  };
}
