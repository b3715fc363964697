import type { Logger } from "./log";

/**
 * Readiness: every dependency check runs in parallel, each bounded by a timeout, and the result is
 * cached briefly so that probes from the kubelet, the load balancer and humans do not multiply the
 * load on the databases. Concurrent callers share the check in flight.
 *
 * Only the `required` dependencies decide readiness: those every request needs. A failure of any
 * other makes the report `degraded` (still ready): the pods keep serving what does not need it
 * (pages, health, other routes) instead of the whole site answering 503 at once.
 */
export type Check = () => Promise<void>;

export interface CheckResult {
  ok: boolean;
  /** A short, non-sensitive reason (error code or class), never a host name or a credential. */
  reason?: string;
  durationMs: number;
}

export interface ReadinessReport {
  /** No required dependency failed. */
  ready: boolean;
  /** Some dependency failed (required or not). */
  degraded: boolean;
  checks: Record<string, CheckResult>;
  /** Names of the failed dependencies, in the order the checks were declared. */
  failed: string[];
  checkedAt: number;
}

export interface ReadinessOptions {
  /** Upper bound of one check, in milliseconds. Keep it below the probe's `timeoutSeconds`. */
  timeoutMs: number;
  /** How long a report is reused, in milliseconds. */
  cacheMs: number;
  now?: () => number;
  /** Dependencies whose failure makes the pod unready. Default: every check (the server passes its own list). */
  required?: readonly string[];
  /** Told about every failure with the full error, for the logs (the report only keeps a reason). */
  onFailure?: (name: string, err: unknown) => void;
  /** Told about every fresh report (metrics, transition logs). */
  onReport?: (report: ReadinessReport) => void;
}

export class CheckTimeoutError extends Error {
  constructor(ms: number) {
    super(`check did not answer within ${ms} ms`);
    this.name = "CheckTimeoutError";
  }
}

/**
 * The part of an error that is safe to publish: the error's own `publicReason` if it has one, else
 * a system error code such as ECONNREFUSED found on it or its causes, else the error class.
 */
export function failureReason(err: unknown): string {
  if (err instanceof CheckTimeoutError) return "timeout";
  const own = (err as { publicReason?: unknown } | undefined)?.publicReason;
  if (typeof own === "string") return own;
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur && typeof cur === "object" && !seen.has(cur)) {
    seen.add(cur);
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  if (err instanceof Error) return err.name && err.name !== "Error" ? err.name : "error";
  return "error";
}

function withTimeout(check: Check, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeoutError(ms)), ms);
  });
  return Promise.race([Promise.resolve().then(check), timeout]).finally(() => clearTimeout(timer));
}

export function createReadiness(checks: Record<string, Check>, opts: ReadinessOptions): () => Promise<ReadinessReport> {
  const now = opts.now ?? Date.now;
  const required = new Set(opts.required ?? Object.keys(checks));
  for (const name of required) if (!(name in checks)) throw new Error(`unknown required dependency ${JSON.stringify(name)}`);
  let cached: ReadinessReport | undefined;
  let inFlight: Promise<ReadinessReport> | undefined;

  const run = async (): Promise<ReadinessReport> => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        const started = now();
        try {
          await withTimeout(check, opts.timeoutMs);
          return [name, { ok: true, durationMs: now() - started }];
        } catch (err) {
          opts.onFailure?.(name, err);
          return [name, { ok: false, reason: failureReason(err), durationMs: now() - started }];
        }
      }),
    );
    const failed = entries.filter(([, r]) => !r.ok).map(([n]) => n);
    const report = { ready: !failed.some((n) => required.has(n)), degraded: failed.length > 0, checks: Object.fromEntries(entries), failed, checkedAt: now() };
    opts.onReport?.(report);
    return report;
  };

  return () => {
    if (cached && now() - cached.checkedAt < opts.cacheMs) return Promise.resolve(cached);
    inFlight ??= run()
      .then((report) => {
        cached = report;
        return report;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/**
 * Logs a dependency's failure when it starts or its reason changes, and its recovery, rather than
 * on every check: a ten-minute outage probed every five seconds is two lines, not 120.
 */
export function logTransitions(log: Logger): Pick<ReadinessOptions, "onFailure" | "onReport"> {
  const failing = new Map<string, string>();
  return {
    onFailure(dependency, err) {
      const reason = failureReason(err);
      if (failing.get(dependency) === reason) return;
      failing.set(dependency, reason);
      log.warn("dependency check failed", { dependency, reason, err });
    },
    onReport(report) {
      for (const [dependency, result] of Object.entries(report.checks)) {
        if (result.ok && failing.delete(dependency)) log.info("dependency recovered", { dependency });
      }
    },
  };
}
