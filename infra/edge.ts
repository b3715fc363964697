import type { EnvironmentContext } from "./context";
import type { Application } from "./application";
import type { Observability } from "./observability";

export interface Edge {
  outputs: Record<string, unknown>;
}

export function buildEdge(_ctx: EnvironmentContext, _deps: { app: Application; observability: Observability }): Edge {
  return { outputs: {} };
}
