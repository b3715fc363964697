/**
 * Readiness: every dependency check runs in parallel, each bounded by a timeout, and the result is
 * cached briefly so that probes from the kubelet, the load balancer and humans do not multiply the
 * load on the databases. Concurrent callers share the check in flight.
 */
export type Check = () => Promise<void>;

export interface CheckResult {
  ok: boolean;
  /** A short, non-sensitive reason (error code or class), never a host name or a credential. */
  reason?: string;
  durationMs: number;
}

export interface ReadinessReport {
  ready: boolean;
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
  /** Told about every failure with the full error, for the logs (the report only keeps a reason). */
  onFailure?: (name: string, err: unknown) => void;
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
    return { ready: failed.length === 0, checks: Object.fromEntries(entries), failed, checkedAt: now() };
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
