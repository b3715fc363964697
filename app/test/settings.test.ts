import { describe, expect, it } from "vitest";
import { readinessSettings, serverSettings, SettingsError } from "../src/lib/settings";

describe("server settings", () => {
  it("defaults to timeouts of seconds, not of the keep-alive period", () => {
    expect(serverSettings({})).toEqual({
      host: "0.0.0.0",
      port: 3000,
      metricsPort: 9464,
      keepAliveTimeoutMs: 95_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      shutdownTimeoutMs: 25_000,
      shutdownDelayMs: 0,
      shutdownIdleGraceMs: 1000,
    });
  });

  it("reports every bad value at once, naming the variable", () => {
    let error: SettingsError | undefined;
    try {
      serverSettings({ PORT: "80a", HEADERS_TIMEOUT_MS: "120000", METRICS_PORT: "3000", KEEP_ALIVE_TIMEOUT_MS: "-1" });
    } catch (err) {
      error = err as SettingsError;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect(error!.problems).toEqual([
      'PORT must be an integer from 0 to 65535, got "80a"',
      'KEEP_ALIVE_TIMEOUT_MS must be an integer from 1000 to 9007199254740991, got "-1"',
      'HEADERS_TIMEOUT_MS must be an integer from 1000 to 60000, got "120000"',
      "METRICS_PORT must differ from PORT",
    ]);
    expect(() => serverSettings({ HEADERS_TIMEOUT_MS: "20000", REQUEST_TIMEOUT_MS: "10000" })).toThrow(/HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS/);
    expect(() => serverSettings({ SHUTDOWN_DELAY_MS: "25000" })).toThrow(/below SHUTDOWN_TIMEOUT_MS/);
    expect(serverSettings({ PORT: "0", METRICS_PORT: "0" })).toMatchObject({ port: 0, metricsPort: 0 });
  });
});

describe("readiness settings", () => {
  it("keeps the check bound below the probe timeout", () => {
    expect(readinessSettings({})).toEqual({ timeoutMs: 1500, cacheMs: 2000, probeTimeoutMs: 3000, required: [] });
    expect(readinessSettings({ READINESS_TIMEOUT_MS: "10000" })).toEqual({ timeoutMs: 2500, cacheMs: 2000, probeTimeoutMs: 3000, required: [], clampedFrom: 10_000 });
    expect(readinessSettings({ READINESS_TIMEOUT_MS: "4000", READINESS_PROBE_TIMEOUT_MS: "5000" }).timeoutMs).toBe(4000);
    expect(readinessSettings({ READINESS_TIMEOUT_MS: "2500" }).clampedFrom).toBeUndefined();
  });

  it("reads the dependencies every request needs, and refuses unknown ones and bad numbers", () => {
    expect(readinessSettings({ READINESS_REQUIRED: "mongodb, redis" }).required).toEqual(["mongodb", "redis"]);
    expect(() => readinessSettings({ READINESS_REQUIRED: "postgres" })).toThrow(/unknown dependency "postgres"/);
    expect(() => readinessSettings({ READINESS_TIMEOUT_MS: "1.5s" })).toThrow(/READINESS_TIMEOUT_MS must be an integer/);
    expect(() => readinessSettings({ READINESS_CACHE_MS: "0" })).toThrow(/READINESS_CACHE_MS/);
  });
});
