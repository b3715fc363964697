import { Agent } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blackhole, closedPort, get, startServer, type RunningServer } from "./processes";

/** Samples of one metric from a Prometheus text exposition: `{labels} value` per series. */
function samples(exposition: string, metric: string): { labels: Record<string, string>; value: number }[] {
  return exposition
    .split("\n")
    .filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `))
    .map((l) => {
      const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
      return { labels, value: Number(m[2]) };
    });
}

async function unreachableDependencies(): Promise<Record<string, string>> {
  const [mongo, redis, kafka] = await Promise.all([closedPort(), closedPort(), closedPort()]);
  return {
    MONGODB_URI: `mongodb://app:not-a-real-password@127.0.0.1:${mongo}/diaspomoney?directConnection=true`,
    REDIS_NODES: `127.0.0.1:${redis}`,
    REDIS_PASSWORD: "not-a-real-password",
    KAFKA_BROKERS: `127.0.0.1:${kafka}`,
    KAFKA_TLS: "false",
    READINESS_TIMEOUT_MS: "1000",
  };
}

describe("the built server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(await unreachableDependencies());
  });
  afterAll(() => server?.stop());

  it("answers liveness without touching any dependency", async () => {
    const res = await get(server.port, "/api/health");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
    expect(server.logs().filter((l) => l.component === "readiness")).toEqual([]);
  });

  it("fails readiness with 503 and names every unreachable dependency", async () => {
    const res = await get(server.port, "/api/health/ready");
    expect(res.status).toBe(503);
    const body = JSON.parse(res.body);
    expect(body.status).toBe("unavailable");
    expect(body.failed).toEqual(["mongodb", "redis", "kafka"]);
    expect(body.checks).toEqual({ mongodb: expect.any(String), redis: "unreachable", kafka: "ECONNREFUSED" });
    // What the public may see: reasons, never where the databases are or how to log in.
    expect(res.body).not.toMatch(/127\.0\.0\.1|not-a-real-password/);
    const failures = server.logs().filter((l) => l.msg === "dependency check failed").map((l) => l.dependency);
    expect(failures.sort()).toEqual(["kafka", "mongodb", "redis"]);
  });

  it("records every request in the duration histogram by route pattern, method and status", async () => {
    await get(server.port, "/api/health");
    await get(server.port, "/no/such/page?x=1");
    const res = await get(server.port, "/api/monitoring/metrics");
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

  it("writes only JSON lines, access log included (probes excepted)", async () => {
    await get(server.port, "/");
    const line = await server.waitForLog((l) => l.component === "http" && l.route === "/");
    expect(line).toMatchObject({ level: "info", msg: "request", method: "GET", status: 200, time: expect.any(String) });
    for (const l of server.lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(server.logs().some((l) => l.component === "http" && l.route === "/api/health")).toBe(false);
  });
});

describe("SIGTERM", () => {
  it("stops accepting connections, finishes the request in flight, then exits 0", async () => {
    const hang = await blackhole();
    const env = await unreachableDependencies();
    const server = await startServer({ ...env, MONGODB_URI: `mongodb://127.0.0.1:${hang.port}/?directConnection=true`, READINESS_TIMEOUT_MS: "3000" });
    try {
      // A kept-alive connection: after its response it must be closed by the server, or the
      // process would wait for the idle timeout instead of exiting.
      const agent = new Agent({ keepAlive: true });
      const inFlight = get(server.port, "/api/health/ready", agent);
      await hang.connected; // the readiness check is now waiting on MongoDB: the request is in flight

      server.child.kill("SIGTERM");
      await server.waitForLog((l) => l.msg === "shutting down");
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(server.port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve("accepted");
        });
        socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
      });
      expect(refused).toBe("ECONNREFUSED");

      const res = await inFlight;
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).failed).toContain("mongodb");
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.logs().map((l) => l.msg)).toContain("stopped");
      agent.destroy();
    } finally {
      await server.stop();
      await hang.close();
    }
  });
});
