import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { blackhole, get, loadedPackages, startServer, unreachableDependencies } from "./processes";

/** Opens `n` connections that send request headers one line every `everyMs`, never finishing; resolves with how long each was held. */
async function slowClients(port: number, n: number, everyMs: number, capMs: number, body = false): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((resolve) => {
          const started = Date.now();
          const socket: Socket = connect(port, "127.0.0.1");
          let timer: NodeJS.Timeout | undefined;
          const done = () => {
            clearInterval(timer);
            socket.destroy();
            resolve(Date.now() - started);
          };
          socket.on("connect", () => {
            socket.write(body ? "POST / HTTP/1.1\r\nHost: app.example\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n" : "GET / HTTP/1.1\r\nHost: app.example\r\n");
            let i = 0;
            timer = setInterval(() => socket.write(body ? "x" : `X-Slow-${i++}: 1\r\n`), everyMs);
          });
          socket.on("data", () => undefined);
          socket.on("close", done);
          socket.on("error", done);
          setTimeout(done, capMs).unref();
        }),
    ),
  );
}

// Every test here starts its own server (ports chosen by the system) and mostly waits on its timers:
// the tests of this file run concurrently.
describe.concurrent("timeouts", () => {
  it("drops clients that send their headers too slowly within seconds", async () => {
    const server = await startServer({ ...(await unreachableDependencies()), HEADERS_TIMEOUT_MS: "2000" });
    try {
      const held = await slowClients(server.port, 100, 400, 15_000);
      // The headers timeout plus the 1 s enforcement interval, plus scheduling slack.
      expect(Math.max(...held)).toBeLessThan(4500);
      expect(Math.min(...held)).toBeGreaterThanOrEqual(1900);
      expect((await get(server.port, "/api/health")).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it("drops a request whose body trickles in for longer than REQUEST_TIMEOUT_MS", async () => {
    const server = await startServer({ ...(await unreachableDependencies()), HEADERS_TIMEOUT_MS: "2000", REQUEST_TIMEOUT_MS: "3000" });
    try {
      const [held] = await slowClients(server.port, 1, 200, 15_000, true);
      expect(held).toBeGreaterThanOrEqual(2900);
      expect(held).toBeLessThan(5500);
    } finally {
      await server.stop();
    }
  });

  it("keeps an idle kept-alive connection open beyond the headers timeout (the proxy closes it first)", async () => {
    const server = await startServer({ ...(await unreachableDependencies()), HEADERS_TIMEOUT_MS: "1000" });
    try {
      const socket = connect(server.port, "127.0.0.1");
      let received = "";
      socket.setEncoding("utf8");
      socket.on("data", (d) => (received += d));
      const send = () => socket.write("GET /api/health HTTP/1.1\r\nHost: app.example\r\n\r\n");
      await new Promise<void>((r) => socket.once("connect", () => r()));
      send();
      await new Promise((r) => setTimeout(r, 3000));
      expect(socket.destroyed).toBe(false);
      send();
      await new Promise((r) => setTimeout(r, 300));
      expect(received.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
      socket.destroy();
    } finally {
      await server.stop();
    }
  });
});

describe.concurrent("dependency checks", () => {
  it("release every socket when they fail against listeners that never answer", async () => {
    const [mongo, redis, kafka] = await Promise.all([blackhole(), blackhole(), blackhole()]);
    const server = await startServer({
      MONGODB_URI: `mongodb://127.0.0.1:${mongo.port}/?directConnection=true`,
      REDIS_NODES: `127.0.0.1:${redis.port}`,
      KAFKA_BROKERS: `127.0.0.1:${kafka.port}`,
      KAFKA_TLS: "false",
      READINESS_TIMEOUT_MS: "400",
      READINESS_CACHE_MS: "1",
    });
    const fds = () => readdirSync(`/proc/${server.child.pid}/fd`).length;
    try {
      expect(JSON.parse((await get(server.port, "/api/health/ready")).body).failed).toEqual(["mongodb", "redis", "kafka"]);
      const rounds = async (n: number) => {
        for (let i = 0; i < n; i++) await get(server.port, "/api/health/ready");
        // Long enough for the last round's sockets to be torn down.
        await new Promise((r) => setTimeout(r, 1500));
        return fds();
      };
      const after5 = await rounds(5);
      const after20 = await rounds(15);
      // Fifteen more failed rounds of three checks: not one more descriptor held.
      expect(after20 - after5).toBeLessThanOrEqual(1);
    } finally {
      await server.stop();
      await Promise.all([mongo.close(), redis.close(), kafka.close()]);
    }
  });

  it("keep the readiness answer inside the probe timeout, whatever READINESS_TIMEOUT_MS says", async () => {
    const hang = await blackhole();
    const server = await startServer({ ...(await unreachableDependencies()), MONGODB_URI: `mongodb://127.0.0.1:${hang.port}/?directConnection=true`, READINESS_TIMEOUT_MS: "10000" });
    try {
      expect(server.logs().find((l) => l.msg === "READINESS_TIMEOUT_MS lowered below the probe timeout")).toMatchObject({ requestedMs: 10_000, timeoutMs: 2500, probeTimeoutMs: 3000 });
      const started = Date.now();
      const res = await get(server.port, "/api/health/ready");
      expect(Date.now() - started).toBeLessThan(3000);
      // The driver's own bound (below the clamped check bound) or the check's: either way, in time.
      expect(["timeout", "MongoServerSelectionError"]).toContain(JSON.parse(res.body).checks.mongodb);
    } finally {
      await server.stop();
      await hang.close();
    }
  });

  it("never echo a malformed setting, and log a failure once rather than on every check", async () => {
    const server = await startServer({
      ...(await unreachableDependencies()),
      REDIS_NODES: "127.0.0.1:6379,app:S3cretPass@redis-0.redis:6379",
      KAFKA_BROKERS: "kafka:Pa55word@kafka-0:9093",
      READINESS_CACHE_MS: "1",
    });
    try {
      for (let i = 0; i < 5; i++) await get(server.port, "/api/health/ready");
      const body = JSON.parse((await get(server.port, "/api/health/ready")).body);
      expect(body.checks).toMatchObject({ redis: "misconfigured", kafka: "misconfigured" });
      const output = server.lines.join("\n");
      expect(output).not.toMatch(/S3cretPass|Pa55word/);
      expect(output).toContain("entry 2 of REDIS_NODES is not a host:port pair");
      const failures = server.logs().filter((l) => l.msg === "dependency check failed");
      expect(failures.map((l) => l.dependency).sort()).toEqual(["kafka", "mongodb", "redis"]);
    } finally {
      await server.stop();
    }
  });
});

describe.concurrent("start-up", () => {
  it("refuses bad settings, naming the variables at fault", async () => {
    await expect(startServer({ HEADERS_TIMEOUT_MS: "ten", PORT: "99999" })).rejects.toThrow(/PORT must be an integer from 0 to 65535.*HEADERS_TIMEOUT_MS must be an integer/);
    await expect(startServer({ READINESS_REQUIRED: "postgres" })).rejects.toThrow(/READINESS_REQUIRED: unknown dependency/);
  });

  it("checks every setting before loading Next.js or a driver, and names every problem at once", async () => {
    const heavy = ["@aws-sdk/client-kms", "ioredis", "kafkajs", "mongodb", "next", "prom-client"];
    const rejected = loadedPackages();
    const error = await startServer({ ...rejected.env, PORT: "99999", READINESS_REQUIRED: "postgres", FIELD_ENCRYPTION_KMS: "" }).then(
      () => "started",
      (err: Error) => err.message,
    );
    const fatal = error.split("\n").find((l) => l.includes('"msg":"startup failed"'));
    expect(fatal, error).toBeDefined();
    expect(JSON.parse(fatal!).err.message).toBe(
      'invalid settings: PORT must be an integer from 0 to 65535, got "99999"; READINESS_REQUIRED: unknown dependency "postgres" (mongodb, redis, kafka); FIELD_ENCRYPTION_KMS is not set (aws-kms, vault-transit or local)',
    );
    expect(rejected.read().filter((p) => heavy.includes(p))).toEqual([]);

    // The same probe in a server that starts sees them, all but the AWS SDK: its KMS is the local one.
    const started = loadedPackages();
    const server = await startServer({ ...(await unreachableDependencies()), ...started.env });
    server.child.kill("SIGTERM");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(started.read().filter((p) => heavy.includes(p))).toEqual(["ioredis", "kafkajs", "mongodb", "next", "prom-client"]);
  });
});
