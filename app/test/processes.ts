/**
 * Real processes and sockets on the loopback interface, for tests that exercise the built server
 * the way Kubernetes does: start `node dist/server.js`, call it over HTTP, signal it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request, type Agent } from "node:http";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PURPOSES } from "../src/lib/field-encryption";
import { LocalKms } from "../src/lib/field-encryption/local-kms";

/** The built server; APP_DIST_SERVER runs the same tests against another build (an older one, say). */
export const DIST_SERVER = process.env.APP_DIST_SERVER ?? join(__dirname, "..", "dist", "server.js");

/** Field encryption through the local KMS: a fresh master key and one wrapped data key per purpose. */
export async function localFieldEncryptionEnv(): Promise<Record<string, string>> {
  const master = randomBytes(32);
  const kms = new LocalKms(new Map([["m1", master]]));
  const keys = [];
  for (const purpose of PURPOSES) keys.push({ id: `${purpose}-1`, purpose, wrapped: await kms.generateDataKey({ keyId: `${purpose}-1`, purpose }) });
  return { FIELD_ENCRYPTION_KMS: "local", FIELD_ENCRYPTION_LOCAL_MASTER_KEYS: `m1:${master.toString("base64")}`, FIELD_ENCRYPTION_DATA_KEYS: JSON.stringify(keys) };
}

export interface LogLine {
  level: string;
  component: string;
  msg: string;
  [field: string]: unknown;
}

export interface RunningServer {
  port: number;
  metricsPort: number;
  child: ChildProcess;
  /** Every stdout line so far, parsed (a line that is not JSON fails the test that reads it). */
  lines: string[];
  logs(): LogLine[];
  /** Resolves with the first log line matching, now or later. */
  waitForLog(match: (l: LogLine) => boolean): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Starts the built server with `env` over a default of local field encryption and ports chosen by the system. */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, [DIST_SERVER], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LISTEN_HOST: "127.0.0.1", PORT: "0", METRICS_PORT: "0", ...(await localFieldEncryptionEnv()), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let stderr = "";
  let buffer = "";
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdout!.on("data", (d) => {
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      let parsed: LogLine | undefined;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (w.match(parsed!)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed!);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const logs = () => lines.map((l) => JSON.parse(l) as LogLine);
  const waitForLog = (match: (l: LogLine) => boolean) =>
    new Promise<LogLine>((resolve) => {
      const found = logs().find(match);
      if (found) resolve(found);
      else waiters.push({ match, resolve });
    });

  const listening = await Promise.race([
    waitForLog((l) => l.msg === "listening"),
    exited.then(({ code }) => {
      throw new Error(`server exited with ${code} before listening:\n${lines.join("\n")}\n${stderr}`);
    }),
  ]);
  return {
    port: listening.port as number,
    metricsPort: listening.metricsPort as number,
    child,
    lines,
    logs,
    waitForLog,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function get(port: number, path: string, agent?: Agent): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Sends one request line as written (`GET *`, `GET http://other.example/`: targets an HTTP client
 * library would not send) and reads the answer. `closed` when the server closed without one.
 */
export function rawRequest(port: number, line: string, headers = "Host: app.example\r\nConnection: close\r\n"): Promise<{ status: number | "closed"; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => (data += d));
    socket.on("error", reject);
    socket.on("close", () => {
      const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(data);
      if (!m) return resolve({ status: "closed", headers: {}, body: data });
      const parsed = Object.fromEntries(m[2].split("\r\n").map((h) => [h.slice(0, h.indexOf(":")).toLowerCase(), h.slice(h.indexOf(":") + 1).trim()]));
      resolve({ status: Number(m[1]), headers: parsed, body: m[3] });
    });
    socket.write(`${line} HTTP/1.1\r\n${headers}\r\n`);
  });
}

/** A port nothing listens on: connections are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A server that accepts connections and never answers: a dependency that hangs. */
export async function blackhole(): Promise<{ port: number; connected: Promise<void>; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  let onConnect!: () => void;
  const connected = new Promise<void>((r) => (onConnect = r));
  const server: Server = createServer((s) => {
    sockets.push(s);
    onConnect();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    connected,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A blackhole in its own process: file descriptors counted in this process are then only the
 * client's. Its sockets are never read, so it never sees a FIN and never sends one back.
 */
export async function blackholeProcess(): Promise<{ port: number; close(): Promise<void> }> {
  const code = `const s = require("node:net").createServer(() => {}); s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("exit", (c) => reject(new Error(`blackhole exited with ${c}`)));
  });
  return {
    port,
    close: async () => {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** Samples of one metric from a Prometheus text exposition: `{labels} value` per series. */
export function samples(exposition: string, metric: string): { labels: Record<string, string>; value: number }[] {
  return exposition
    .split("\n")
    .filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `))
    .map((l) => {
      const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
      return { labels, value: Number(m[2]) };
    });
}

/** Every dependency pointed at a closed local port, with credentials that must never be echoed. */
export async function unreachableDependencies(): Promise<Record<string, string>> {
  const [mongo, redis, kafka] = await Promise.all([closedPort(), closedPort(), closedPort()]);
  return {
    MONGODB_URI: `mongodb://app:not-a-real-password@127.0.0.1:${mongo}/diaspomoney?directConnection=true`,
    REDIS_NODES: `127.0.0.1:${redis}`,
    REDIS_PASSWORD: "not-a-real-password",
    KAFKA_BROKERS: `127.0.0.1:${kafka}`,
    KAFKA_TLS: "false",
    READINESS_TIMEOUT_MS: "1000",
  };
}

/**
 * What a server process loaded: `env` makes it write, when it exits (not when it is killed), the
 * packages in its module cache (`node_modules/<name>`, scoped names whole) to a file; `read()` returns
 * them, sorted, and removes the file.
 */
export function loadedPackages(): { env: Record<string, string>; read(): string[] } {
  const dir = mkdtempSync(join(tmpdir(), "loaded-packages-"));
  const probe = join(dir, "probe.cjs");
  const out = join(dir, "packages.json");
  writeFileSync(
    probe,
    `process.on("exit", () => {
  const names = Object.keys(require.cache).map((f) => /.*\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1]).filter(Boolean);
  require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify([...new Set(names)].sort()));
});
`,
  );
  const read = () => {
    try {
      return JSON.parse(readFileSync(out, "utf8")) as string[];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return { env: { NODE_OPTIONS: `--require ${probe}` }, read };
}
