/**
 * The server's settings from the environment, validated at start-up: a bad value stops the
 * process (and so the rollout) with a message naming the variable. Every duration is in
 * milliseconds; every default is written next to its variable.
 */
type Env = Record<string, string | undefined>;

export interface ServerSettings {
  host: string;
  port: number;
  /** The second listener: Prometheus metrics only, reached only by the scraper. */
  metricsPort: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  shutdownDelayMs: number;
  shutdownIdleGraceMs: number;
}

export interface ReadinessSettings {
  timeoutMs: number;
  cacheMs: number;
  /** The kubelet's timeout for the readiness probe; the check bound is kept below it. */
  probeTimeoutMs: number;
  required: string[];
  /** Set when READINESS_TIMEOUT_MS was lowered to fit under the probe timeout. */
  clampedFrom?: number;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid settings: ${problems.join("; ")}`);
    this.name = "SettingsError";
  }
}

/** Reads integers, collecting problems instead of stopping at the first. */
function reader(env: Env) {
  const problems: string[] = [];
  const int = (name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 20))}`);
      return fallback;
    }
    return n;
  };
  return { int, problems };
}

export const DEPENDENCY_NAMES = ["mongodb", "redis", "kafka"] as const;

export function serverSettings(env: Env): ServerSettings {
  const { int, problems } = reader(env);
  const settings: ServerSettings = {
    // Not HOSTNAME: Kubernetes sets it to the pod name, which would bind the pod IP only.
    host: env.LISTEN_HOST?.trim() || "0.0.0.0",
    port: int("PORT", 3000, { max: 65535 }),
    metricsPort: int("METRICS_PORT", 9464, { max: 65535 }),
    // Longer than the idle timeout of the proxy in front (Traefik keeps idle backend connections
    // 90 s): the proxy, not the app, must be the one closing an idle connection, or a request sent
    // on a connection the app is closing fails with a 502.
    keepAliveTimeoutMs: int("KEEP_ALIVE_TIMEOUT_MS", 95_000, { min: 1000 }),
    // A client has this long to send its request headers, and the whole request: slow clients
    // hold a socket for seconds, not for the keep-alive timeout.
    headersTimeoutMs: int("HEADERS_TIMEOUT_MS", 10_000, { min: 1000, max: 60_000 }),
    requestTimeoutMs: int("REQUEST_TIMEOUT_MS", 30_000, { min: 1000, max: 300_000 }),
    shutdownTimeoutMs: int("SHUTDOWN_TIMEOUT_MS", 25_000, { min: 1000 }),
    // After SIGTERM, how long the listener stays open answering readiness 503, for setups without
    // a pre-stop pause (Kubernetes pods here have one, so 0).
    shutdownDelayMs: int("SHUTDOWN_DELAY_MS", 0, { max: 60_000 }),
    // How long an idle kept-alive connection may still deliver a request already on its way
    // (answered with Connection: close) before it is closed gracefully.
    shutdownIdleGraceMs: int("SHUTDOWN_IDLE_GRACE_MS", 1000, { max: 10_000 }),
  };
  if (settings.headersTimeoutMs > settings.requestTimeoutMs) problems.push("HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS");
  if (settings.metricsPort !== 0 && settings.metricsPort === settings.port) problems.push("METRICS_PORT must differ from PORT");
  if (settings.shutdownDelayMs + settings.shutdownIdleGraceMs >= settings.shutdownTimeoutMs) problems.push("SHUTDOWN_DELAY_MS + SHUTDOWN_IDLE_GRACE_MS must be below SHUTDOWN_TIMEOUT_MS");
  if (problems.length) throw new SettingsError(problems);
  return settings;
}

/** Margin left between the check bound and the probe timeout, for the response to travel. */
const PROBE_MARGIN_MS = 500;

export function readinessSettings(env: Env): ReadinessSettings {
  const { int, problems } = reader(env);
  const probeTimeoutMs = int("READINESS_PROBE_TIMEOUT_MS", 3000, { min: 1000 });
  const requested = int("READINESS_TIMEOUT_MS", 1500, { min: 100 });
  const cacheMs = int("READINESS_CACHE_MS", 2000, { min: 1 });
  const required = (env.READINESS_REQUIRED ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of required) {
    if (!(DEPENDENCY_NAMES as readonly string[]).includes(name)) problems.push(`READINESS_REQUIRED: unknown dependency ${JSON.stringify(name.slice(0, 20))} (${DEPENDENCY_NAMES.join(", ")})`);
  }
  if (problems.length) throw new SettingsError(problems);
  // A check allowed to outlast the probe makes the kubelet time out instead of reading the answer.
  const ceiling = probeTimeoutMs - PROBE_MARGIN_MS;
  return requested > ceiling ? { timeoutMs: ceiling, cacheMs, probeTimeoutMs, required, clampedFrom: requested } : { timeoutMs: requested, cacheMs, probeTimeoutMs, required };
}
