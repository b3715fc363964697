import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createLogger } from "./log";

/**
 * A minimal Sentry client: exceptions are sent as envelopes to the project's ingest endpoint when
 * SENTRY_DSN is set, and not at all otherwise. The official SDK pulls in OpenTelemetry and dozens
 * of packages for tracing we do not use (Prometheus covers latency); error reports are what this
 * service needs. Sending never throws, never blocks a response for long (bounded timeout) and is
 * rate-limited so an error storm cannot saturate the egress.
 */
export interface Dsn {
  publicKey: string;
  projectId: string;
  /** `https://o123.ingest.sentry.io/api/<project>/envelope/` */
  envelopeUrl: string;
  raw: string;
}

export function parseDsn(dsn: string): Dsn {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new Error("SENTRY_DSN is not a URL");
  }
  const segments = url.pathname.split("/").filter(Boolean);
  const projectId = segments.pop();
  if (!url.username || !projectId || !/^\d+$/.test(projectId) || !/^https?:$/.test(url.protocol)) {
    throw new Error("SENTRY_DSN is not of the form https://<key>@<host>/<project id>");
  }
  const prefix = segments.length ? `/${segments.join("/")}` : "";
  return {
    publicKey: url.username,
    projectId,
    envelopeUrl: `${url.protocol}//${url.host}${prefix}/api/${projectId}/envelope/`,
    raw: dsn,
  };
}

interface Frame {
  function?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
}

/** V8 stack lines to Sentry frames, oldest call first as Sentry expects. */
export function stackFrames(stack: string | undefined): Frame[] {
  if (!stack) return [];
  const frames: Frame[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const m = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (m) frames.push({ function: m[1] ?? "?", filename: m[2], lineno: Number(m[3]), colno: Number(m[4]) });
  }
  return frames.reverse();
}

export interface SentryOptions {
  dsn?: string;
  environment?: string;
  release?: string;
  /** Events accepted per minute; the rest are dropped (and counted in the logs by the caller). */
  maxPerMinute?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface Sentry {
  readonly enabled: boolean;
  /** Resolves once the event was sent, dropped or failed; never rejects. */
  captureException(err: unknown, context?: { tags?: Record<string, string>; extra?: Record<string, unknown> }): Promise<boolean>;
}

export function createSentry(opts: SentryOptions): Sentry {
  if (!opts.dsn) return { enabled: false, captureException: async () => false };
  const dsn = parseDsn(opts.dsn);
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const maxPerMinute = opts.maxPerMinute ?? 60;
  let windowStart = now();
  let sentInWindow = 0;

  return {
    enabled: true,
    async captureException(err, context = {}) {
      if (now() - windowStart >= 60_000) {
        windowStart = now();
        sentInWindow = 0;
      }
      if (sentInWindow >= maxPerMinute) return false;
      sentInWindow += 1;

      const error = err instanceof Error ? err : new Error(String(err));
      const eventId = randomUUID().replace(/-/g, "");
      const sentAt = new Date(now()).toISOString();
      const event = {
        event_id: eventId,
        timestamp: now() / 1000,
        platform: "node",
        level: "error",
        server_name: hostname(),
        environment: opts.environment,
        release: opts.release,
        tags: context.tags,
        extra: context.extra,
        exception: { values: [{ type: error.name, value: error.message, stacktrace: { frames: stackFrames(error.stack) } }] },
      };
      const body = [
        JSON.stringify({ event_id: eventId, sent_at: sentAt, dsn: dsn.raw }),
        JSON.stringify({ type: "event" }),
        JSON.stringify(event),
      ].join("\n");
      try {
        const res = await doFetch(dsn.envelopeUrl, {
          method: "POST",
          headers: {
            "content-type": "application/x-sentry-envelope",
            "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${dsn.publicKey}, sentry_client=diaspomoney-web/1.0`,
          },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? 2000),
        });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}

const KEY = Symbol.for("diaspomoney.web.sentry");

/**
 * The process's client, from SENTRY_DSN, APP_ENVIRONMENT and APP_RELEASE. A malformed DSN disables
 * error reporting with a warning rather than stopping the app: Sentry is not on the request path.
 */
export function sentry(): Sentry {
  const g = globalThis as { [KEY]?: Sentry };
  if (!g[KEY]) {
    try {
      g[KEY] = createSentry({ dsn: process.env.SENTRY_DSN || undefined, environment: process.env.APP_ENVIRONMENT, release: process.env.APP_RELEASE });
    } catch (err) {
      createLogger("sentry").warn("error reporting disabled", { reason: (err as Error).message });
      g[KEY] = createSentry({});
    }
  }
  return g[KEY];
}
