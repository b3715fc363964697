/**
 * Structured logs: one JSON object per line on stdout, which is what the cluster's log collector
 * parses. Fields are flat so they can be indexed; errors become `{name, message, stack}`.
 */
export type Level = "debug" | "info" | "warn" | "error" | "fatal";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  fatal(msg: string, fields?: Fields): void;
}

export function serializeError(err: unknown): Fields {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(code !== undefined ? { code } : {}), stack: err.stack };
  }
  return { message: String(err) };
}

function minLevel(): number {
  const wanted = (process.env.LOG_LEVEL ?? "info").toLowerCase() as Level;
  return ORDER[wanted] ?? ORDER.info;
}

export function createLogger(component: string, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const threshold = minLevel();
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < threshold) return;
    const entry: Fields = { time: new Date().toISOString(), level, component, msg };
    for (const [k, v] of Object.entries(fields ?? {})) entry[k] = k === "err" ? serializeError(v) : v;
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    fatal: (m, f) => emit("fatal", m, f),
  };
}
