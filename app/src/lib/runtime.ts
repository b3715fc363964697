import { dependencies, type Dependencies } from "./dependencies";
import { isShuttingDown } from "./lifecycle";
import { createLogger } from "./log";
import { webMetrics } from "./metrics";
import { createReadiness, logTransitions, type ReadinessReport } from "./readiness";
import { readinessSettings, type ReadinessSettings } from "./settings";

/**
 * The process's dependency clients and readiness function, created once from the environment and
 * shared by the server and the route handlers (see lifecycle.ts for why on `globalThis`).
 */
interface Runtime {
  deps: Dependencies;
  readiness: () => Promise<ReadinessReport>;
  settings: ReadinessSettings;
}

const KEY = Symbol.for("diaspomoney.web.runtime");

function create(): Runtime {
  const log = createLogger("readiness");
  const settings = readinessSettings(process.env);
  if (settings.clampedFrom !== undefined) {
    log.warn("READINESS_TIMEOUT_MS lowered below the probe timeout", { requestedMs: settings.clampedFrom, timeoutMs: settings.timeoutMs, probeTimeoutMs: settings.probeTimeoutMs });
  }
  const deps = dependencies(process.env, { timeoutMs: settings.timeoutMs, log });
  const metrics = webMetrics();
  const transitions = logTransitions(log);
  const readiness = createReadiness(deps.checks, {
    timeoutMs: settings.timeoutMs,
    cacheMs: settings.cacheMs,
    required: settings.required,
    onFailure: transitions.onFailure,
    onReport(report) {
      transitions.onReport!(report);
      for (const [dependency, result] of Object.entries(report.checks)) {
        metrics.dependencyUp.set({ dependency }, result.ok ? 1 : 0);
        metrics.dependencyCheckSeconds.set({ dependency }, result.durationMs / 1000);
        if (!result.ok) metrics.dependencyFailures.inc({ dependency });
      }
      metrics.ready.set(report.ready && !isShuttingDown() ? 1 : 0);
    },
  });
  return { deps, readiness, settings };
}

/** Creates the runtime on first use; the server calls it at start-up so bad settings stop the process. */
export function runtime(): Runtime {
  const g = globalThis as { [KEY]?: Runtime };
  return (g[KEY] ??= create());
}

/** Closes the clients if they were ever created (shutdown must not open connections). */
export async function closeRuntime(): Promise<void> {
  const g = globalThis as { [KEY]?: Runtime };
  await g[KEY]?.deps.close();
}
