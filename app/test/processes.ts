/**
 * Real processes and sockets on the loopback interface, for tests that exercise the built server
 * the way Kubernetes does: start `node dist/server.js`, call it over HTTP, signal it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request, type Agent } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";

export const DIST_SERVER = join(__dirname, "..", "dist", "server.js");

export interface LogLine {
  level: string;
  component: string;
  msg: string;
  [field: string]: unknown;
}

export interface RunningServer {
  port: number;
  child: ChildProcess;
  /** Every stdout line so far, parsed (a line that is not JSON fails the test that reads it). */
  lines: string[];
  logs(): LogLine[];
  /** Resolves with the first log line matching, now or later. */
  waitForLog(match: (l: LogLine) => boolean): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, [DIST_SERVER], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LISTEN_HOST: "127.0.0.1", PORT: "0", ...env },
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
