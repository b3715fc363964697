import { dependencies, type Dependencies } from "./dependencies";
import { createLogger } from "./log";
import { createReadiness, type ReadinessReport } from "./readiness";

/**
 * The process's dependency clients and readiness function, created once from the environment and
 * shared by the server and the route handlers (see lifecycle.ts for why on `globalThis`).
 */
interface Runtime {
  deps: Dependencies;
  readiness: () => Promise<ReadinessReport>;
}

const KEY = Symbol.for("diaspomoney.web.runtime");

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function create(): Runtime {
  const log = createLogger("readiness");
  // 1.5 s per check (run in parallel) keeps the answer under the probe's 3 s timeout.
  const timeoutMs = positiveInt(process.env.READINESS_TIMEOUT_MS, 1500);
  const deps = dependencies(process.env, { timeoutMs, log });
  const readiness = createReadiness(deps.checks, {
    timeoutMs,
    cacheMs: positiveInt(process.env.READINESS_CACHE_MS, 2000),
    onFailure: (dependency, err) => log.warn("dependency check failed", { dependency, err }),
  });
  return { deps, readiness };
}

export function runtime(): Runtime {
  const g = globalThis as { [KEY]?: Runtime };
  return (g[KEY] ??= create());
}

/** Closes the clients if they were ever created (shutdown must not open connections). */
export async function closeRuntime(): Promise<void> {
  const g = globalThis as { [KEY]?: Runtime };
  await g[KEY]?.deps.close();
}
