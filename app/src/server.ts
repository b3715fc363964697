/**
 * The production entry point: Next.js's request handler inside our own HTTP server, so that
 *  - the probes are answered before Next.js (liveness never waits behind the framework), and
 *    framework-internal or malformed targets are refused with a 4xx before it (request-gate.ts);
 *  - every request is timed into `http_request_duration_seconds` with the route pattern of the URL
 *    the client sent, its method and status;
 *  - metrics are served on a second listener (METRICS_PORT) that only the scraper reaches;
 *  - bad settings or a bad field-encryption key stop the start (and so the rollout);
 *  - SIGTERM drains: readiness fails at once, the listener closes after SHUTDOWN_DELAY_MS,
 *    requests already sent on kept-alive connections are answered with `Connection: close`
 *    (never reset), the database clients close, then the process exits 0;
 *  - logs are JSON lines and fatal errors go to Sentry.
 * Every setting is read and checked first, every problem named in one line, before Next.js and the
 * drivers load (serve.ts): a misconfigured pod stops in a fraction of the start-up's time.
 * It is compiled per tsconfig.server.json (scripts/emit-server.mjs) and run from the assembled
 * standalone folder (dist/), next to the `.next` build it serves.
 */
import { format } from "node:util";
import { fieldEncryptionFromEnv, FieldEncryptionError, KmsError } from "./lib/field-encryption";
import { createLogger } from "./lib/log";
import { sentry } from "./lib/sentry";
import { readinessSettings, serverSettings, SettingsError, type ServerSettings } from "./lib/settings";

const log = createLogger("server");

// Next.js and the drivers write to the console (startup notices, "⨯ Error ..." for failed
// renders): turned into JSON lines too, so that every line on stdout is one structured record.
const nextLog = createLogger("next");
const plain = (args: unknown[]) => format(...args).replace(/\u001b\[[0-9;]*m/g, "");
console.log = console.info = (...args: unknown[]) => nextLog.info(plain(args));
console.debug = (...args: unknown[]) => nextLog.debug(plain(args));
console.warn = (...args: unknown[]) => nextLog.warn(plain(args));
console.error = (...args: unknown[]) => nextLog.error(plain(args));

type Env = Record<string, string | undefined>;

/**
 * The server's, the readiness checks' and field encryption's settings, each read as the module that
 * uses it reads it (field encryption's KMS and data keys are parsed, nothing is unwrapped yet):
 * throws one SettingsError naming every problem found.
 */
function checkedSettings(env: Env): ServerSettings {
  const problems: string[] = [];
  const read = <T>(settings: () => T): T | undefined => {
    try {
      return settings();
    } catch (err) {
      if (err instanceof SettingsError) problems.push(...err.problems);
      else if (err instanceof FieldEncryptionError || err instanceof KmsError) problems.push(err.message);
      else throw err;
      return undefined;
    }
  };
  const server = read(() => serverSettings(env));
  read(() => readinessSettings(env));
  read(() => fieldEncryptionFromEnv(env));
  if (problems.length) throw new SettingsError(problems);
  return server!;
}

async function main(): Promise<void> {
  const settings = checkedSettings(process.env);
  const dir = __dirname;
  process.chdir(dir);
  const { serve } = await import("./serve");
  await serve(dir, settings);
}

async function fatal(kind: string, err: unknown): Promise<never> {
  log.fatal(kind, { err });
  await sentry().captureException(err, { tags: { kind } });
  process.exit(1);
}

process.on("uncaughtException", (err) => void fatal("uncaught exception", err));
process.on("unhandledRejection", (err) => void fatal("unhandled rejection", err));

main().catch((err) => fatal("startup failed", err));
