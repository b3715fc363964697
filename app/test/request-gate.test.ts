import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsListener, createRequestListener, REJECTED, SECURITY_HEADERS } from "../src/lib/http-app";
import { createLogger } from "../src/lib/log";
import { webMetrics } from "../src/lib/metrics";
import { classify } from "../src/lib/request-gate";
import { routeLabeler } from "../src/lib/routes";

describe("the request gate", () => {
  it("passes ordinary paths of the application to Next.js", () => {
    for (const target of ["/", "/fr/transferts?montant=100", "/_next/static/chunks/app.js", "/api/users/42", "/api/health/", "/a/b.c/d", "/%C3%A9t%C3%A9"]) {
      expect(classify("GET", target), target).toEqual({ kind: "app" });
    }
  });

  it("answers the probes itself, for GET and HEAD only", () => {
    expect(classify("GET", "/api/health")).toEqual({ kind: "liveness" });
    expect(classify("HEAD", "/api/health?probe=kubelet")).toEqual({ kind: "liveness" });
    expect(classify("GET", "/api/health/ready")).toEqual({ kind: "readiness" });
    expect(classify("POST", "/api/health")).toEqual({ kind: "reject", status: 405, reason: "method", allow: "GET, HEAD" });
  });

  it("refuses asterisk-form, absolute-form and other non-path targets with 400", () => {
    const cases: [string | undefined, string][] = [
      ["*", "asterisk-form"],
      ["http://evil.example/", "absolute-form"],
      ["https://app.diaspomoney.fr/api/health", "absolute-form"],
      ["evil.example:443", "absolute-form"],
      ["", "empty-target"],
      [undefined, "empty-target"],
      ["//evil.example/x", "network-path"],
      ["/a\\b", "backslash"],
      ["/a%5Cb", "backslash"],
      ["/%zz", "bad-encoding"],
    ];
    for (const [target, reason] of cases) expect(classify("GET", target), String(target)).toEqual({ kind: "reject", status: 400, reason });
    expect(classify("OPTIONS", "*")).toMatchObject({ status: 400, reason: "asterisk-form" });
  });

  it("refuses dot segments, encoded or not, wherever they are", () => {
    for (const target of ["/api/monitoring/./metrics", "/_next/../api/monitoring/metrics", "/a/..", "/.", "/x/%2e%2E/y", "/x/.%2e/y", "/x/%2E/y?q=1"]) {
      expect(classify("GET", target), target).toEqual({ kind: "reject", status: 400, reason: "dot-segment" });
    }
    expect(classify("GET", "/.well-known/security.txt")).toEqual({ kind: "app" });
    expect(classify("GET", "/a?x=/../")).toEqual({ kind: "app" });
  });

  it("answers 404 for the framework's internal pages and the private metrics route", () => {
    for (const target of ["/_global-error", "/_not-found", "/_error", "/_app", "/_document", "/_global-error.rsc", "/%5fglobal-error", "/_not-found?x=1"]) {
      expect(classify("GET", target), target).toEqual({ kind: "reject", status: 404, reason: "framework-internal" });
    }
    for (const target of ["/api/monitoring/metrics", "/API/Monitoring/Metrics", "/api/monitoring/metrics/", "/api/monitoring", "/api/monitoring%2fmetrics"]) {
      expect(classify("GET", target), target).toEqual({ kind: "reject", status: 404, reason: "private" });
    }
  });

  it("refuses TRACE", () => {
    expect(classify("TRACE", "/")).toMatchObject({ status: 405 });
  });
});

describe("the public request listener", () => {
  const metrics = webMetrics();
  const seen: string[] = [];
  let port = 0;
  let metricsPort = 0;
  const server = createServer(
    createRequestListener({
      // Next.js rewrites req.url while it routes (`/x.rsc` → `/x`): a stand-in doing the same.
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        const original = req.url!;
        seen.push(original);
        req.url = original.replace(/\.rsc$/, "") || "/";
        if (req.url === "/boom") throw new Error("handler exploded");
        res.statusCode = original === "/" ? 200 : 404;
        res.end("next");
      },
      routeOf: routeLabeler([{ page: "/", regex: "^/(?:/)?$" }]),
      metrics,
      accessLog: createLogger("http", () => undefined),
      onHandlerError: () => undefined,
      readiness: async () => ({ status: 200, body: { status: "ready" } }),
    }),
  );
  const metricsServer = createServer(createMetricsListener(metrics, async () => undefined));

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => metricsServer.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    metricsPort = (metricsServer.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
    metricsServer.close();
  });

  const call = (p: number, path: string, method = "GET") =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: p, path, method, agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    });
  const count = async (route: string, status: string) => {
    const values = (await metrics.httpDuration.get()).values.filter((v) => v.metricName === "http_request_duration_seconds_count");
    return values.find((v) => v.labels.route === route && v.labels.status === status)?.value ?? 0;
  };

  it("labels a request by the URL the client sent, not the one Next.js rewrote", async () => {
    const before = await count("/", "404");
    const res = await call(port, "/.rsc");
    expect(res.status).toBe(404);
    expect(seen).toContain("/.rsc");
    expect(await count("/", "404")).toBe(before);
    expect(await count("unmatched", "404")).toBeGreaterThanOrEqual(1);
  });

  it("sets the security headers on every response, whoever answers it", async () => {
    for (const path of ["/", "/api/health", "/_global-error", "/api/monitoring/./metrics", "/missing"]) {
      const res = await call(port, path);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers[name], `${path} ${name}`).toBe(value);
    }
  });

  it("answers refused targets itself, labelled `rejected`, and a failing handler with a 500", async () => {
    const res = await call(port, "/_global-error");
    expect([res.status, res.body]).toEqual([404, "Not Found\n"]);
    expect(seen).not.toContain("/_global-error");
    expect(await count(REJECTED, "404")).toBeGreaterThanOrEqual(1);
    expect((await call(port, "/boom")).status).toBe(500);
  });

  it("serves metrics on the metrics listener only, at /metrics", async () => {
    const res = await call(metricsPort, "/metrics");
    expect(res.status).toBe(200);
    expect(res.body).toContain("http_request_duration_seconds_count");
    for (const path of ["/", "/api/monitoring/metrics", "/metrics/x"]) expect((await call(metricsPort, path)).status, path).toBe(404);
    expect((await call(metricsPort, "/metrics", "POST")).status).toBe(404);
  });
});
