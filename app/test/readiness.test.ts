import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError, DependencyError, NotConfiguredError, dependencies, kafka, kafkaTls, parseHostList, redisTls } from "../src/lib/dependencies";
import { createLogger } from "../src/lib/log";
import { createReadiness, failureReason, logTransitions } from "../src/lib/readiness";
import { blackholeProcess } from "./processes";

const ok = async () => undefined;
const refused = async () => {
  throw Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:27017"), { code: "ECONNREFUSED" });
};
const never = () => new Promise<void>(() => undefined);

describe("readiness", () => {
  it("is ready when every check passes", async () => {
    const report = await createReadiness({ mongodb: ok, redis: ok, kafka: ok }, { timeoutMs: 100, cacheMs: 0 })();
    expect(report.ready).toBe(true);
    expect(report.failed).toEqual([]);
    expect(Object.values(report.checks).every((c) => c.ok)).toBe(true);
  });

  it("names each failed dependency with a reason that carries no address", async () => {
    const report = await createReadiness({ mongodb: refused, redis: ok, kafka: never }, { timeoutMs: 20, cacheMs: 0 })();
    expect(report.ready).toBe(false);
    expect(report.failed).toEqual(["mongodb", "kafka"]);
    expect(report.checks.mongodb).toMatchObject({ ok: false, reason: "ECONNREFUSED" });
    expect(report.checks.kafka).toMatchObject({ ok: false, reason: "timeout" });
    expect(JSON.stringify(report)).not.toContain("10.0.0.7");
  });

  it("reports every failure with the full error to its callback, for the logs", async () => {
    const seen: [string, unknown][] = [];
    await createReadiness({ mongodb: refused, redis: ok }, { timeoutMs: 50, cacheMs: 0, onFailure: (n, e) => seen.push([n, e]) })();
    expect(seen).toHaveLength(1);
    expect(seen[0][0]).toBe("mongodb");
    expect((seen[0][1] as Error).message).toContain("10.0.0.7");
  });

  it("reuses a report within the cache period and checks again after it", async () => {
    let t = 1_000;
    let calls = 0;
    const readiness = createReadiness({ redis: async () => void calls++ }, { timeoutMs: 50, cacheMs: 2_000, now: () => t });
    await readiness();
    t += 1_999;
    await readiness();
    expect(calls).toBe(1);
    t += 1;
    await readiness();
    expect(calls).toBe(2);
  });

  it("shares one run between concurrent callers", async () => {
    let calls = 0;
    let release!: () => void;
    const readiness = createReadiness(
      { mongodb: () => ((calls += 1), new Promise<void>((r) => (release = r))) },
      { timeoutMs: 1_000, cacheMs: 0 },
    );
    const all = Promise.all([readiness(), readiness(), readiness()]);
    await new Promise((r) => setImmediate(r));
    release();
    const reports = await all;
    expect(calls).toBe(1);
    expect(new Set(reports).size).toBe(1);
  });

  it("degrades instead of failing when only dependencies that are not required fail", async () => {
    const checks = { mongodb: refused, redis: ok, kafka: never };
    const degraded = await createReadiness(checks, { timeoutMs: 20, cacheMs: 0, required: [] })();
    expect([degraded.ready, degraded.degraded, degraded.failed]).toEqual([true, true, ["mongodb", "kafka"]]);
    const strict = await createReadiness(checks, { timeoutMs: 20, cacheMs: 0, required: ["mongodb"] })();
    expect([strict.ready, strict.degraded]).toEqual([false, true]);
    const fine = await createReadiness(checks, { timeoutMs: 20, cacheMs: 0, required: ["redis"] })();
    expect(fine.ready).toBe(true);
    expect(() => createReadiness(checks, { timeoutMs: 20, cacheMs: 0, required: ["postgres"] })).toThrow(/unknown required dependency "postgres"/);
  });

  it("logs a failure when it starts or changes, and the recovery, not every failed check", async () => {
    const lines: string[] = [];
    let failing: (() => Promise<void>) | undefined = refused;
    const readiness = createReadiness({ mongodb: () => (failing ? failing() : ok()) }, { timeoutMs: 50, cacheMs: 0, ...logTransitions(createLogger("readiness", (l) => void lines.push(l))) });
    for (let i = 0; i < 5; i++) await readiness();
    failing = never;
    await readiness();
    await readiness();
    failing = undefined;
    await readiness();
    await readiness();
    const msgs = lines.map((l) => JSON.parse(l)).map((l) => `${l.msg}:${l.reason ?? ""}`);
    expect(msgs).toEqual(["dependency check failed:ECONNREFUSED", "dependency check failed:timeout", "dependency recovered:"]);
  });

  it("derives reasons from codes, causes, stated reasons and error classes", () => {
    const nested = new Error("server selection failed", { cause: Object.assign(new Error("x"), { code: "ENOTFOUND" }) });
    expect(failureReason(nested)).toBe("ENOTFOUND");
    expect(failureReason(new DependencyError("no node", "unreachable"))).toBe("unreachable");
    expect(failureReason(new NotConfiguredError("MONGODB_URI"))).toBe("not-configured");
    class MongoServerSelectionError extends Error {
      override name = "MongoServerSelectionError";
    }
    expect(failureReason(new MongoServerSelectionError("..."))).toBe("MongoServerSelectionError");
    expect(failureReason("weird")).toBe("error");
  });
});

describe("dependency clients", () => {
  it("parse host lists, IPv6 literals and default ports included", () => {
    expect(parseHostList("redis-0.redis:6379, redis-1.redis:6380,[::1]:7000,kafka", 9093)).toEqual([
      { host: "redis-0.redis", port: 6379 },
      { host: "redis-1.redis", port: 6380 },
      { host: "::1", port: 7000 },
      { host: "kafka", port: 9093 },
    ]);
    expect(() => parseHostList("a:b:c", 1)).toThrow(/host:port/);
  });

  it("name a malformed host entry by its position, never echoing it (it may hold a password)", () => {
    for (const value of ["redis-0:6379,app:S3cretPass@redis-1:6379", "redis-0:6379,redis-1:99999", "redis-0:6379,red is:1", "redis-0:6379,:6379"]) {
      let error: Error | undefined;
      try {
        parseHostList(value, 6379, "REDIS_NODES");
      } catch (err) {
        error = err as Error;
      }
      expect(error, value).toBeInstanceOf(ConfigurationError);
      expect(error!.message).toBe("entry 2 of REDIS_NODES is not a host:port pair");
      expect(failureReason(error)).toBe("misconfigured");
    }
  });

  it("release every Kafka socket when a check against a broker that never answers fails", async () => {
    const hang = await blackholeProcess();
    const fds = () => readdirSync("/proc/self/fd").length;
    const log = createLogger("test", () => undefined);
    const dep = kafka({ KAFKA_BROKERS: `127.0.0.1:${hang.port}`, KAFKA_TLS: "false" }, { timeoutMs: 400, log });
    const readiness = createReadiness({ kafka: dep.check }, { timeoutMs: 400, cacheMs: 0 });
    await readiness();
    await new Promise((r) => setTimeout(r, 100));
    const before = fds();
    for (let i = 0; i < 8; i++) await readiness();
    await new Promise((r) => setTimeout(r, 200));
    expect(fds() - before).toBeLessThanOrEqual(1);
    await dep.close();
    await hang.close();
  });

  it("fail as not configured, without connecting, when their variables are missing", async () => {
    const deps = dependencies({}, { timeoutMs: 200, log: createLogger("test", () => undefined) });
    const report = await createReadiness(deps.checks, { timeoutMs: 200, cacheMs: 0 })();
    expect(report.failed).toEqual(["mongodb", "redis", "kafka"]);
    expect(Object.values(report.checks).map((c) => c.reason)).toEqual(["not-configured", "not-configured", "not-configured"]);
    await deps.close();
  });

  it("refuse an unknown Kafka SASL mechanism", async () => {
    const deps = dependencies(
      { KAFKA_BROKERS: "127.0.0.1:9", KAFKA_USERNAME: "web", KAFKA_PASSWORD: "p", KAFKA_SASL_MECHANISM: "GSSAPI" },
      { timeoutMs: 200, log: createLogger("test", () => undefined) },
    );
    await expect(deps.checks.kafka()).rejects.toThrow(/unsupported KAFKA_SASL_MECHANISM "GSSAPI"/);
    await deps.close();
  });
});

describe("TLS to the data services", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const dir = mkdtempSync(join(tmpdir(), "ca-"));
  const file = join(dir, "ca.crt");
  writeFileSync(file, pem);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("verifies Kafka against the mounted CA file, or the system roots without one", () => {
    expect(kafkaTls({ KAFKA_CA_FILE: file })).toEqual({ ca: [pem] });
    expect(kafkaTls({})).toBe(true);
    expect(kafkaTls({ KAFKA_TLS: "false", KAFKA_CA_FILE: file })).toBe(false);
  });

  it("verifies every Redis node against the CA under the one certificate name", () => {
    expect(redisTls({ REDIS_TLS: "true", REDIS_CA_FILE: file, REDIS_TLS_SERVERNAME: "redis-leader-headless.ns.svc" })).toEqual({
      ca: pem,
      servername: "redis-leader-headless.ns.svc",
    });
    expect(redisTls({ REDIS_CA_FILE: file })).toBeUndefined();
  });

  it("fails loudly when the CA file is missing", () => {
    expect(() => kafkaTls({ KAFKA_CA_FILE: join(tmpdir(), "no-such-ca.crt") })).toThrow(/ENOENT/);
  });
});
