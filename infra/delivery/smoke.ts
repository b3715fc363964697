// `npm run smoke -- <url> [--attempts N] [--delay D] [--timeout D] [--path P]`: is the app alive at <url>?
// The deploy workflow runs it after `pulumi up`; a person runs the same command after a rollback or
// during an incident. GET <url>/api/health (the app's liveness: it answers `{"status":"ok"}` as long
// as the process serves, whatever the state of its databases) until it answers 200 with that body,
// or the attempts run out. Exit 0 when healthy, 1 when not, 2 on a usage error (infra/cli.ts).
import { runCommand, shownArgument, UsageError } from "../cli";
import { credentialKind } from "../config/credentials";

export { UsageError } from "../cli";

export interface SmokeOptions {
  /** How many requests at most, the first included. */
  attempts: number;
  /** Pause between two attempts, in milliseconds. */
  delayMs: number;
  /** How long one request may take (headers and body), in milliseconds. */
  timeoutMs: number;
  /** Path appended to the URL unless the URL already ends with it. */
  path: string;
}

/** A rollout behind Cloudflare takes minutes: 30 attempts 10 s apart cover about five. */
export const defaultSmokeOptions: SmokeOptions = { attempts: 30, delayMs: 10_000, timeoutMs: 5_000, path: "/api/health" };

const limits = { attempts: 1_000, delayMs: 10 * 60_000, timeoutMs: 2 * 60_000 };

export interface Attempt {
  /** 1-based. */
  n: number;
  healthy: boolean;
  /** What was seen, for a person: `HTTP 503 {"status":"starting"}`, `no answer within 5s`. */
  detail: string;
}

export interface SmokeResult {
  url: string;
  healthy: boolean;
  attempts: Attempt[];
}

const USAGE = `usage: npm run smoke -- <url> [--attempts N] [--delay D] [--timeout D] [--path P]
  <url>        base URL of the app, e.g. https://dev.diaspomoney.fr (checks <url>${defaultSmokeOptions.path})
  --attempts   requests at most, default ${defaultSmokeOptions.attempts}
  --delay      pause between attempts, default ${defaultSmokeOptions.delayMs / 1000}s
  --timeout    time allowed for one request, default ${defaultSmokeOptions.timeoutMs / 1000}s
  --path       path to check, default ${defaultSmokeOptions.path} (the readiness probe is /api/health/ready)
  durations:   500ms, 10s, 2m; a bare number is seconds`;

const usage = (message: string) => new UsageError(message, USAGE);

/** `500ms`, `10s`, `2m`, or a bare number of seconds, to milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw usage(`"${text}" is not a duration (500ms, 10s, 2m)`);
  const factor = m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1_000;
  return Math.round(Number(m[1]) * factor);
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms >= 1_000) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** `https://host` + `/api/health`; a URL that already ends with the path is kept as it is. */
export function healthUrl(base: string, path: string): string {
  // The health endpoint is public, and the URL is printed on every attempt and in the deploy log: a
  // credential has no place in it, and is not echoed back either.
  const kind = credentialKind(base);
  if (kind) throw usage(`the URL looks like ${kind}: give the bare URL of the app`);
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw usage(`"${base}" is not a URL: give the scheme, e.g. https://${base}`);
  }
  if (url.username || url.password) throw usage("the URL holds a user name: give the bare URL of the app");
  if (url.protocol !== "https:" && url.protocol !== "http:") throw usage(`"${base}" is not an http(s) URL`);
  const trimmed = url.pathname.replace(/\/+$/, "");
  url.pathname = trimmed.endsWith(path) ? trimmed : `${trimmed}${path}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

export function parseSmokeArgs(argv: string[]): { url: string; options: SmokeOptions } {
  const options = { ...defaultSmokeOptions };
  let base: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--attempts": {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > limits.attempts) {
          throw usage(`--attempts must be a whole number from 1 to ${limits.attempts}, not "${v}"`);
        }
        options.attempts = Number(v);
        break;
      }
      case "--delay":
        options.delayMs = parseDuration(value());
        if (options.delayMs > limits.delayMs) throw usage(`--delay must be at most ${formatDuration(limits.delayMs)}`);
        break;
      case "--timeout":
        options.timeoutMs = parseDuration(value());
        if (options.timeoutMs < 1 || options.timeoutMs > limits.timeoutMs) {
          throw usage(`--timeout must be between 1ms and ${formatDuration(limits.timeoutMs)}`);
        }
        break;
      case "--path": {
        const v = value();
        if (!v.startsWith("/")) throw usage(`--path must start with "/", not "${v}"`);
        options.path = v;
        break;
      }
      default:
        if (flag.startsWith("-")) throw usage(`unknown option ${flag}`);
        if (base !== undefined) throw usage(`unexpected argument ${shownArgument(arg)}`);
        base = arg;
    }
  }
  if (base === undefined) throw usage("missing <url>");
  return { url: healthUrl(base, options.path), options };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

/** The network error's own code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED) when fetch hides it in `cause`. */
function failureReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `no answer within ${formatDuration(timeoutMs)}`;
  }
  const cause = err instanceof Error ? (err as Error & { cause?: { code?: string; message?: string } }).cause : undefined;
  if (cause?.code) return `connection failed: ${cause.code}`;
  return `request failed: ${cause?.message ?? (err instanceof Error ? err.message : String(err))}`;
}

/** One GET: healthy only for HTTP 200 with a JSON body whose `status` is "ok". Redirects are not followed. */
export async function probe(url: string, timeoutMs: number): Promise<{ healthy: boolean; detail: string }> {
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json", "cache-control": "no-cache", "user-agent": "diaspomoney-smoke" },
    });
    body = await response.text();
  } catch (err) {
    return { healthy: false, detail: failureReason(err, timeoutMs) };
  }
  const seen = `HTTP ${response.status}${body ? ` ${snippet(body)}` : ""}`;
  if (response.status >= 300 && response.status < 400) {
    return { healthy: false, detail: `HTTP ${response.status} redirect to ${response.headers.get("location") ?? "(no location)"}` };
  }
  if (response.status !== 200) return { healthy: false, detail: seen };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { healthy: false, detail: `${seen}: the body is not JSON` };
  }
  const status = parsed && typeof parsed === "object" ? (parsed as { status?: unknown }).status : undefined;
  if (status !== "ok") return { healthy: false, detail: `${seen}: expected "status": "ok"` };
  return { healthy: true, detail: seen };
}

export interface SmokeHooks {
  /** Waits between attempts; tests pass one that does not. */
  sleep?: (ms: number) => Promise<void>;
  onAttempt?: (attempt: Attempt, options: SmokeOptions) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runSmoke(url: string, options: SmokeOptions, hooks: SmokeHooks = {}): Promise<SmokeResult> {
  const sleep = hooks.sleep ?? realSleep;
  const attempts: Attempt[] = [];
  for (let n = 1; n <= options.attempts; n++) {
    const { healthy, detail } = await probe(url, options.timeoutMs);
    const attempt = { n, healthy, detail };
    attempts.push(attempt);
    hooks.onAttempt?.(attempt, options);
    if (healthy) return { url, healthy, attempts };
    if (n < options.attempts) await sleep(options.delayMs);
  }
  return { url, healthy: false, attempts };
}

export function describeAttempt(attempt: Attempt, options: SmokeOptions): string {
  const tail = attempt.healthy || attempt.n === options.attempts ? "" : `; next try in ${formatDuration(options.delayMs)}`;
  return `attempt ${attempt.n}/${options.attempts}: ${attempt.detail}${tail}`;
}

/** The closing message: what was checked, what was seen, and where to look next. */
export function describeResult(result: SmokeResult, options: SmokeOptions): string {
  const last = result.attempts[result.attempts.length - 1];
  if (result.healthy) return `OK: ${result.url} is healthy (${last.detail}, attempt ${last.n}/${options.attempts})`;
  const distinct = [...new Set(result.attempts.map((a) => a.detail))];
  const window = formatDuration(options.delayMs * (options.attempts - 1));
  return [
    `FAIL: ${result.url} did not answer HTTP 200 {"status":"ok"} in ${options.attempts} attempt${options.attempts === 1 ? "" : "s"} over ${window} (timeout ${formatDuration(options.timeoutMs)} each).`,
    `  last answer: ${last.detail}`,
    ...(distinct.length > 1 ? [`  answers seen: ${distinct.join(" | ")}`] : []),
    "  next: `kubectl -n diaspomoney-<env> rollout status deployment/web`, the pods' events and logs, then the Traefik route and Cloudflare.",
  ].join("\n");
}

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    out(USAGE);
    return 0;
  }
  let parsed: { url: string; options: SmokeOptions };
  try {
    parsed = parseSmokeArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message.trim());
      return 2;
    }
    throw e;
  }
  const { url, options } = parsed;
  out(`smoke: GET ${url}, up to ${options.attempts} attempt${options.attempts === 1 ? "" : "s"}, ${formatDuration(options.delayMs)} apart`);
  const result = await runSmoke(url, options, { onAttempt: (a, o) => out(describeAttempt(a, o)) });
  (result.healthy ? out : err)(describeResult(result, options));
  return result.healthy ? 0 : 1;
}

if (require.main === module) runCommand(() => main(process.argv.slice(2)));
