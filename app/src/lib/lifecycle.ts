/**
 * Process-wide state shared by the custom server and the route handlers. Next.js compiles the route
 * handlers into their own bundles, so module-level variables would not be shared with the server:
 * the state lives on `globalThis` under a registered symbol instead.
 */
const KEY = Symbol.for("diaspomoney.web.lifecycle");

interface LifecycleState {
  shuttingDown: boolean;
}

function state(): LifecycleState {
  const g = globalThis as { [KEY]?: LifecycleState };
  return (g[KEY] ??= { shuttingDown: false });
}

/** True once SIGTERM was received: readiness then fails so Kubernetes stops sending traffic. */
export function isShuttingDown(): boolean {
  return state().shuttingDown;
}

export function beginShutdown(): void {
  state().shuttingDown = true;
}
