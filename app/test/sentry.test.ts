import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createSentry, parseDsn, stackFrames } from "../src/lib/sentry";
import { closedPort } from "./processes";

describe("the Sentry client", () => {
  it("derives the envelope endpoint from the DSN", () => {
    expect(parseDsn("https://abc123@o42.ingest.sentry.io/4505")).toMatchObject({
      publicKey: "abc123",
      projectId: "4505",
      envelopeUrl: "https://o42.ingest.sentry.io/api/4505/envelope/",
    });
    expect(parseDsn("https://k@sentry.example.fr/prefix/7").envelopeUrl).toBe("https://sentry.example.fr/prefix/api/7/envelope/");
    expect(() => parseDsn("https://sentry.io/42")).toThrow(/https:\/\/<key>@<host>\/<project id>/);
    expect(() => parseDsn("not a url")).toThrow(/not a URL/);
  });

  it("does nothing without a DSN", async () => {
    const sentry = createSentry({});
    expect(sentry.enabled).toBe(false);
    expect(await sentry.captureException(new Error("x"))).toBe(false);
  });

  it("sends an exception as an envelope with the project's key", async () => {
    const received: { url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ url: req.url, headers: req.headers, body });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      const sentry = createSentry({ dsn: `http://publickey@127.0.0.1:${port}/12`, environment: "rct", release: "web@1.2.3" });
      const err = new TypeError("amount must be positive");
      expect(await sentry.captureException(err, { tags: { route: "/api/transfers" } })).toBe(true);
      expect(received).toHaveLength(1);
      expect(received[0].url).toBe("/api/12/envelope/");
      expect(received[0].headers["x-sentry-auth"]).toMatch(/^Sentry sentry_version=7, sentry_key=publickey, /);
      const [header, item, event] = received[0].body.split("\n").map((l) => JSON.parse(l));
      expect(header.event_id).toBe(event.event_id);
      expect(item).toEqual({ type: "event" });
      expect(event).toMatchObject({ level: "error", environment: "rct", release: "web@1.2.3", tags: { route: "/api/transfers" } });
      expect(event.exception.values[0]).toMatchObject({ type: "TypeError", value: "amount must be positive" });
      expect(event.exception.values[0].stacktrace.frames.at(-1).filename).toContain("sentry.test.ts");
    } finally {
      server.close();
    }
  });

  it("drops events past the per-minute budget", async () => {
    let posts = 0;
    let t = 0;
    const sentry = createSentry({
      dsn: "https://k@sentry.example.fr/1",
      maxPerMinute: 2,
      now: () => t,
      fetch: (async () => ((posts += 1), new Response("{}"))) as typeof fetch,
    });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await sentry.captureException(new Error(String(i))));
    expect(results).toEqual([true, true, false, false]);
    t += 60_000;
    expect(await sentry.captureException(new Error("later"))).toBe(true);
    expect(posts).toBe(3);
  });

  it("never throws when Sentry cannot be reached", async () => {
    const sentry = createSentry({ dsn: `http://k@127.0.0.1:${await closedPort()}/1` });
    expect(await sentry.captureException(new Error("x"))).toBe(false);
  });

  it("turns a V8 stack into frames, oldest call first", () => {
    const frames = stackFrames("Error: x\n    at inner (/app/lib/a.js:10:5)\n    at /app/server.js:3:1");
    expect(frames).toEqual([
      { function: "?", filename: "/app/server.js", lineno: 3, colno: 1 },
      { function: "inner", filename: "/app/lib/a.js", lineno: 10, colno: 5 },
    ]);
  });
});
