import { Agent } from "node:http";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { blackhole, get, startServer, unreachableDependencies, type RunningServer } from "./processes";

function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("accepted");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
  });
}

/** A raw kept-alive connection sending `GET path` on demand; `ended` says how it ended (`end` = FIN). */
async function keptAlive(port: number) {
  const socket: Socket = connect(port, "127.0.0.1");
  await new Promise<void>((r) => socket.once("connect", () => r()));
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (d) => (received += d));
  const ended = new Promise<string>((resolve) => {
    socket.once("end", () => resolve("end"));
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
  });
  return {
    socket,
    ended,
    send: (path: string) => socket.write(`GET ${path} HTTP/1.1\r\nHost: app.example\r\n\r\n`),
    received: () => received,
    /** Complete responses so far (the probes' bodies end with `}`). */
    answers: () => (received.match(/HTTP\/1\.1 \d{3}/g) ?? []).length,
  };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};

// Each test signals a server of its own: they run concurrently.
describe.concurrent("SIGTERM", () => {
  it("stops accepting connections, finishes the request in flight, then exits 0", async () => {
    const hang = await blackhole();
    const env = await unreachableDependencies();
    const server = await startServer({ ...env, MONGODB_URI: `mongodb://127.0.0.1:${hang.port}/?directConnection=true`, READINESS_TIMEOUT_MS: "2500" });
    try {
      // A kept-alive connection: after its response it must be closed by the server, or the
      // process would wait for the idle timeout instead of exiting.
      const agent = new Agent({ keepAlive: true });
      const inFlight = get(server.port, "/api/health/ready", agent);
      await hang.connected; // the readiness check is now waiting on MongoDB: the request is in flight

      server.child.kill("SIGTERM");
      await server.waitForLog((l) => l.msg === "shutting down");
      expect(await tryConnect(server.port)).toBe("ECONNREFUSED");

      const res = await inFlight;
      // Answered, with what is true when it is answered.
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toEqual({ status: "shutting-down" });
      expect(res.headers.connection).toBe("close");
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.logs().map((l) => l.msg)).toContain("stopped");
      agent.destroy();
    } finally {
      await server.stop();
      await hang.close();
    }
  });

  it("answers a request written on an idle kept-alive connection after SIGTERM, with Connection: close, rather than resetting it", async () => {
    const server = await startServer(await unreachableDependencies());
    try {
      const c = await keptAlive(server.port);
      c.send("/api/health");
      await until(() => c.answers() === 1);
      server.child.kill("SIGTERM");
      await server.waitForLog((l) => l.msg === "shutting down");
      c.send("/api/health");
      expect(await c.ended).toBe("end");
      expect(c.answers()).toBe(2);
      expect(c.received().slice(c.received().lastIndexOf("HTTP/1.1"))).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*connection: close[\s\S]*\{"status":"ok"\}$/i);
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      await server.stop();
    }
  });

  it("resets no kept-alive connection under load", async () => {
    const server = await startServer(await unreachableDependencies());
    try {
      const clients = await Promise.all(Array.from({ length: 20 }, () => keptAlive(server.port)));
      // Each client sends its next request as soon as the previous answer is complete, until an
      // answer says the connection closes.
      for (const c of clients) {
        c.socket.on("data", () => {
          const last = c.received().slice(c.received().lastIndexOf("HTTP/1.1"));
          if (last.endsWith("}") && !/connection: close/i.test(last)) c.send("/api/health");
        });
        c.send("/api/health");
      }
      await until(() => clients.every((c) => c.answers() >= 20));
      server.child.kill("SIGTERM");
      const endings = await Promise.all(clients.map((c) => c.ended));
      expect(endings.filter((e) => e !== "end")).toEqual([]);
      for (const c of clients) expect(c.received().slice(c.received().lastIndexOf("HTTP/1.1"))).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*connection: close/i);
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      await server.stop();
    }
  });

  it("fails readiness before the listener closes (SHUTDOWN_DELAY_MS)", async () => {
    const server: RunningServer = await startServer({ ...(await unreachableDependencies()), SHUTDOWN_DELAY_MS: "1500" });
    try {
      expect((await get(server.port, "/api/health/ready")).status).toBe(200);
      server.child.kill("SIGTERM");
      await server.waitForLog((l) => l.msg === "shutdown requested");
      const during = await get(server.port, "/api/health/ready");
      expect([during.status, JSON.parse(during.body).status, during.headers.connection]).toEqual([503, "shutting-down", "close"]);
      expect((await get(server.port, "/")).status).toBe(200);
      await server.waitForLog((l) => l.msg === "shutting down");
      expect(await tryConnect(server.port)).toBe("ECONNREFUSED");
      const requested = Date.parse(server.logs().find((l) => l.msg === "shutdown requested")!.time as string);
      const closed = Date.parse(server.logs().find((l) => l.msg === "shutting down")!.time as string);
      expect(closed - requested).toBeGreaterThanOrEqual(1400);
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      await server.stop();
    }
  });
});
