import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECURITY_HEADERS } from "../src/lib/http-app";
import { get, rawRequest, samples, startServer, unreachableDependencies, type RunningServer } from "./processes";

describe("the built server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(await unreachableDependencies());
  });
  afterAll(() => server?.stop());

  const scrape = async () => {
    const res = await get(server.metricsPort, "/metrics");
    expect(res.status).toBe(200);
    return res.body;
  };

  it("answers liveness itself, before Next.js, without touching any dependency", async () => {
    const res = await get(server.port, "/api/health");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
    // Next.js marks every response of its pipeline with `vary: rsc, …`: this one never went through it.
    expect(res.headers.vary).toBeUndefined();
    expect((await get(server.port, "/")).headers.vary).toMatch(/rsc/i);
    expect(server.logs().filter((l) => l.component === "readiness")).toEqual([]);
  });

  it("stays ready but degraded when dependencies fail, naming each one, without addresses or passwords", async () => {
    const res = await get(server.port, "/api/health/ready");
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toEqual({
      status: "degraded",
      failed: ["mongodb", "redis", "kafka"],
      required: [],
      checks: { mongodb: expect.any(String), redis: "unreachable", kafka: "ECONNREFUSED" },
    });
    // What the public may see: reasons, never where the databases are or how to log in.
    expect(res.body).not.toMatch(/127\.0\.0\.1|not-a-real-password/);
    const failures = server.logs().filter((l) => l.msg === "dependency check failed").map((l) => l.dependency);
    expect(failures.sort()).toEqual(["kafka", "mongodb", "redis"]);
    // The static page is still served: one dependency down no longer takes the site down.
    expect((await get(server.port, "/")).status).toBe(200);
  });

  it("reports each dependency's state as metrics, refreshed by the scrape itself", async () => {
    const body = await scrape();
    expect(Object.fromEntries(samples(body, "app_dependency_up").map((s) => [s.labels.dependency, s.value]))).toEqual({ mongodb: 0, redis: 0, kafka: 0 });
    expect(samples(body, "app_dependency_check_failures_total").every((s) => s.value >= 1)).toBe(true);
    expect(samples(body, "app_ready")).toEqual([{ labels: {}, value: 1 }]);
    expect(samples(body, "app_field_encryption_operations_total").map((s) => `${s.labels.operation}:${s.labels.key_id}:${s.labels.outcome}`).sort()).toEqual([
      "unwrap:banking-1:ok",
      "unwrap:contact-1:ok",
      "unwrap:identity-1:ok",
    ]);
  });

  it("records every request in the duration histogram by route pattern, method and status", async () => {
    await get(server.port, "/api/health");
    await get(server.port, "/no/such/page?x=1");
    const res = await get(server.metricsPort, "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain("# TYPE http_request_duration_seconds histogram");

    const counts = samples(res.body, "http_request_duration_seconds_count");
    const health = counts.find((s) => s.labels.route === "/api/health" && s.labels.method === "GET" && s.labels.status === "200");
    expect(health?.value).toBeGreaterThanOrEqual(2);
    // A 404 is one series whatever the path, so random URLs cannot multiply the series.
    expect(counts.find((s) => s.labels.route === "unmatched" && s.labels.status === "404")?.value).toBeGreaterThanOrEqual(1);
    expect(counts.some((s) => s.labels.route?.startsWith("/no/"))).toBe(false);

    const buckets = samples(res.body, "http_request_duration_seconds_bucket").filter((s) => s.labels.route === "/api/health" && s.labels.status === "200");
    expect(buckets.map((b) => b.labels.le)).toEqual(["0.005", "0.01", "0.025", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.5", "1", "2.5", "5", "+Inf"]);
    expect(samples(res.body, "process_cpu_user_seconds_total")).toHaveLength(1);
    expect(samples(res.body, "nodejs_heap_size_total_bytes")).toHaveLength(1);
  });

  it("serves metrics on the metrics port only: no spelling of the old public route answers them", async () => {
    for (const path of ["/api/monitoring/metrics", "/api/monitoring/./metrics", "/_next/../api/monitoring/metrics", "/api/monitoring/metrics/", "/API/MONITORING/METRICS", "/api/monitoring/%6detrics", "/metrics"]) {
      const res = await get(server.port, path);
      expect([400, 404], path).toContain(res.status);
      expect(res.body, path).not.toContain("http_request_duration_seconds");
    }
    expect((await get(server.metricsPort, "/api/health")).status).toBe(404);
  });

  it("labels a request by the URL the client sent, not the one Next.js rewrote", async () => {
    // Next.js serves `/.rsc` as `/` (and answers 404): counted as `unmatched`, not as the home page.
    expect((await get(server.port, "/.rsc")).status).toBe(404);
    const counts = samples(await scrape(), "http_request_duration_seconds_count");
    expect(counts.find((s) => s.labels.route === "/" && s.labels.status === "404")).toBeUndefined();
    expect(counts.find((s) => s.labels.route === "unmatched" && s.labels.status === "404")?.value).toBeGreaterThanOrEqual(1);
  });

  it("refuses framework-internal and malformed targets with a 4xx before Next.js, with no error log", async () => {
    const cases: [string, number][] = [
      ["GET /_global-error", 404],
      ["GET /_not-found", 404],
      ["GET *", 400],
      ["OPTIONS *", 400],
      ["GET http://evil.example/", 400],
      ["GET //evil.example/", 400],
      ["GET /api/monitoring/./metrics", 400],
    ];
    for (const [line, status] of cases) {
      const res = await rawRequest(server.port, line);
      expect(res.status, line).toBe(status);
      expect(res.headers.location, line).toBeUndefined();
    }
    expect(server.logs().filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
  });

  it("sets the security headers itself on pages, probes, errors and refusals", async () => {
    for (const path of ["/", "/api/health", "/api/health/ready", "/no/such/page", "/_global-error"]) {
      const res = await get(server.port, path);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers[name], `${path} ${name}`).toBe(value);
    }
  });

  it("an anonymous client cannot raise the error-rate series", async () => {
    const errors = (body: string) =>
      samples(body, "http_request_duration_seconds_count")
        .filter((s) => /^5/.test(s.labels.status))
        .reduce((sum, s) => sum + s.value, 0);
    const before = errors(await scrape());
    const hostile = [
      "GET /_global-error",
      "GET /_global-error?x=1",
      "GET /_global-error.rsc",
      "GET /_not-found",
      "GET /_error",
      "GET *",
      "OPTIONS *",
      "POST *",
      "GET http://evil.example/",
      "CONNECT evil.example:443",
      "GET /api/monitoring/./metrics",
      "GET /%zz",
      "GET /a\\b",
      "TRACE /",
      "PROPFIND /",
      "DELETE /",
      "POST /api/health",
      "GET /api/health/ready/x",
      "GET /no/such/page",
      "GET /.rsc",
      "GET /_next/static/nothing.js",
      "GET /_next/image?url=http://evil.example/x.png&w=64&q=75",
      "GET /index.segments/_tree.segment.rsc",
    ];
    const statuses: Record<string, number | string> = {};
    for (const line of hostile) statuses[line] = (await rawRequest(server.port, line)).status;
    for (const [line, status] of Object.entries(statuses)) expect(String(status), line).not.toMatch(/^5/);
    const body = await scrape();
    expect(errors(body)).toBe(before);
    // And what they did add is labelled outside the application's routes.
    const appRoutes = new Set(["/", "/api/health", "/api/health/ready"]);
    const hostileSeries = samples(body, "http_request_duration_seconds_count").filter((s) => !appRoutes.has(s.labels.route));
    expect(new Set(hostileSeries.map((s) => s.labels.route))).toEqual(new Set(["rejected", "unmatched", "/_next/static", "/_next/image"]));
  });

  it("writes only JSON lines, access log included (probes excepted)", async () => {
    await get(server.port, "/");
    const line = await server.waitForLog((l) => l.component === "http" && l.route === "/");
    expect(line).toMatchObject({ level: "info", msg: "request", method: "GET", status: 200, time: expect.any(String) });
    for (const l of server.lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(server.logs().some((l) => l.component === "http" && l.route === "/api/health")).toBe(false);
  });
});

describe("readiness with a required dependency", () => {
  it("answers 503 when a dependency named in READINESS_REQUIRED fails, 200 degraded for the others", async () => {
    const server = await startServer({ ...(await unreachableDependencies()), READINESS_REQUIRED: "mongodb" });
    try {
      const res = await get(server.port, "/api/health/ready");
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ status: "unavailable", failed: ["mongodb", "redis", "kafka"], required: ["mongodb"] });
      expect(samples((await get(server.metricsPort, "/metrics")).body, "app_ready")[0].value).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
