import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  defaultSmokeOptions,
  describeResult,
  healthUrl,
  main,
  parseDuration,
  parseSmokeArgs,
  runSmoke,
  UsageError,
  type SmokeOptions,
} from "../../infra/delivery/smoke";
import { inProcess } from "../cli/run-command";

// Every server here listens on 127.0.0.1 only and is closed after its test; every loop is bounded by
// `attempts`, and the injected sleep does not wait.

const servers: http.Server[] = [];

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

const noWait = { sleep: async () => {} };
const fast = (attempts: number): SmokeOptions => ({ ...defaultSmokeOptions, attempts, delayMs: 10, timeoutMs: 2_000 });

describe("the smoke test against a local server", () => {
  it("passes at the first attempt when /api/health answers 200 {status: ok}", async () => {
    const paths: string[] = [];
    const base = await serve((req, res) => {
      paths.push(req.url ?? "");
      json(res, 200, { status: "ok" });
    });
    const result = await runSmoke(healthUrl(base, "/api/health"), fast(5), noWait);
    expect(result.healthy).toBe(true);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0].detail).toBe('HTTP 200 {"status":"ok"}');
    expect(paths).toEqual(["/api/health"]);
    expect(describeResult(result, fast(5))).toMatch(/^OK: http:\/\/127\.0\.0\.1:\d+\/api\/health is healthy \(HTTP 200/);
  });

  it("retries while the app starts, waiting the configured delay, and passes once it recovers", async () => {
    let calls = 0;
    const base = await serve((_req, res) => {
      calls += 1;
      if (calls <= 2) json(res, 503, { status: "starting" });
      else json(res, 200, { status: "ok", version: "1.2.3" });
    });
    const waits: number[] = [];
    const seen: string[] = [];
    const options = { ...fast(5), delayMs: 1_234 };
    const result = await runSmoke(`${base}/api/health`, options, {
      sleep: async (ms) => void waits.push(ms),
      onAttempt: (a) => seen.push(`${a.n}:${a.healthy}:${a.detail}`),
    });
    expect(result.healthy).toBe(true);
    expect(seen).toEqual([
      '1:false:HTTP 503 {"status":"starting"}',
      '2:false:HTTP 503 {"status":"starting"}',
      '3:true:HTTP 200 {"status":"ok","version":"1.2.3"}',
    ]);
    expect(waits).toEqual([1_234, 1_234]);
  });

  it("fails after the last attempt when the app stays down, and says what it saw", async () => {
    let calls = 0;
    const base = await serve((_req, res) => {
      calls += 1;
      res.writeHead(502, { "content-type": "text/plain" });
      res.end("Bad gateway");
    });
    const options = fast(3);
    const result = await runSmoke(`${base}/api/health`, options, noWait);
    expect(result.healthy).toBe(false);
    expect(calls).toBe(3);
    const message = describeResult(result, options);
    expect(message).toContain(`FAIL: ${base}/api/health did not answer HTTP 200 {"status":"ok"} in 3 attempts`);
    expect(message).toContain("last answer: HTTP 502 Bad gateway");
    expect(message).toContain("rollout status deployment/web");
  });

  it('refuses a 200 whose body is not {"status": "ok"}', async () => {
    const base = await serve((req, res) => {
      if (req.url === "/degraded/api/health") json(res, 200, { status: "degraded" });
      else {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>maintenance</html>");
      }
    });
    const degraded = await runSmoke(`${base}/degraded/api/health`, fast(1), noWait);
    expect(degraded.healthy).toBe(false);
    expect(degraded.attempts[0].detail).toBe('HTTP 200 {"status":"degraded"}: expected "status": "ok"');
    const html = await runSmoke(`${base}/api/health`, fast(1), noWait);
    expect(html.attempts[0].detail).toBe("HTTP 200 <html>maintenance</html>: the body is not JSON");
  });

  it("does not follow a redirect (a login page or another host is not the app's health)", async () => {
    const base = await serve((_req, res) => {
      res.writeHead(302, { location: "https://login.example/" });
      res.end();
    });
    const result = await runSmoke(`${base}/api/health`, fast(1), noWait);
    expect(result.attempts[0]).toMatchObject({ healthy: false, detail: "HTTP 302 redirect to https://login.example/" });
  });

  it("gives up on a request that takes longer than the timeout", async () => {
    const base = await serve(() => {
      // Never answers; afterEach closes the connection.
    });
    const result = await runSmoke(`${base}/api/health`, { ...fast(2), timeoutMs: 150 }, noWait);
    expect(result.healthy).toBe(false);
    expect(result.attempts.map((a) => a.detail)).toEqual(["no answer within 150ms", "no answer within 150ms"]);
  });

  it("names the network error when nothing listens", async () => {
    const base = await serve(() => {});
    const closed = servers.pop()!;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runSmoke(`${base}/api/health`, fast(1), noWait);
    expect(result.attempts[0].detail).toBe("connection failed: ECONNREFUSED");
  });
});

describe("arguments", () => {
  it("defaults to 30 attempts 10 s apart, 5 s each, on /api/health", () => {
    expect(parseSmokeArgs(["https://dev.diaspomoney.fr"])).toEqual({
      url: "https://dev.diaspomoney.fr/api/health",
      options: { attempts: 30, delayMs: 10_000, timeoutMs: 5_000, path: "/api/health" },
    });
  });

  it("reads every flag, in both --flag value and --flag=value forms", () => {
    expect(
      parseSmokeArgs(["--attempts", "4", "https://app.diaspomoney.fr/", "--delay=500ms", "--timeout", "2", "--path", "/api/health/ready"]),
    ).toEqual({
      url: "https://app.diaspomoney.fr/api/health/ready",
      options: { attempts: 4, delayMs: 500, timeoutMs: 2_000, path: "/api/health/ready" },
    });
  });

  it("keeps a URL that already ends with the path", () => {
    expect(healthUrl("https://rct.diaspomoney.fr/api/health", "/api/health")).toBe("https://rct.diaspomoney.fr/api/health");
    expect(healthUrl("https://rct.diaspomoney.fr/api/health/", "/api/health")).toBe("https://rct.diaspomoney.fr/api/health");
  });

  it("reads durations in ms, s, m and bare seconds", () => {
    expect([parseDuration("250ms"), parseDuration("10s"), parseDuration("2m"), parseDuration("3"), parseDuration("1.5s")]).toEqual([
      250, 10_000, 120_000, 3_000, 1_500,
    ]);
  });

  it.each([
    [[], /missing <url>/],
    [["dev.diaspomoney.fr"], /not a URL: give the scheme, e.g. https:\/\/dev\.diaspomoney\.fr/],
    [["ftp://dev.diaspomoney.fr"], /not an http\(s\) URL/],
    [["https://x.fr", "--attempts", "0"], /--attempts must be a whole number from 1 to 1000, not "0"/],
    [["https://x.fr", "--attempts", "1001"], /--attempts must be a whole number from 1 to 1000/],
    [["https://x.fr", "--attempts"], /--attempts needs a value/],
    [["https://x.fr", "--delay", "soon"], /"soon" is not a duration/],
    [["https://x.fr", "--delay", "11m"], /--delay must be at most 10m/],
    [["https://x.fr", "--timeout", "0"], /--timeout must be between 1ms and 2m/],
    [["https://x.fr", "--path", "api/health"], /--path must start with "\/"/],
    [["https://x.fr", "--retries", "3"], /unknown option --retries/],
    [["https://x.fr", "https://y.fr"], /unexpected argument "https:\/\/y\.fr"/],
    [["https://x.fr", "https://ops:Hunter2-pass@y.fr"], /unexpected argument \(an argument that looks like a URL with a user and password, not shown\)/],
  ])("rejects %j with a usage message", (argv, message) => {
    expect(() => parseSmokeArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseSmokeArgs(argv as string[])).toThrow(message);
    expect(() => parseSmokeArgs(argv as string[])).not.toThrow(/Hunter2/);
  });
});

describe("the command", () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, o: (l: string) => void out.push(l), e: (l: string) => void err.push(l) };
  };

  it("exits 0 on a healthy app, printing each attempt and the verdict", async () => {
    const base = await serve((_req, res) => json(res, 200, { status: "ok" }));
    const c = capture();
    expect(await main([base, "--attempts", "2", "--delay", "1ms"], c.o, c.e)).toBe(0);
    expect(c.out[0]).toBe(`smoke: GET ${base}/api/health, up to 2 attempts, 1ms apart`);
    expect(c.out[1]).toBe('attempt 1/2: HTTP 200 {"status":"ok"}');
    expect(c.out[2]).toMatch(/^OK: /);
    expect(c.err).toEqual([]);
  });

  it("exits 1 on an app that stays down, the verdict on stderr", async () => {
    const base = await serve((_req, res) => json(res, 503, { status: "down" }));
    const c = capture();
    expect(await main([base, "--attempts", "2", "--delay", "1ms"], c.o, c.e)).toBe(1);
    expect(c.out[1]).toBe('attempt 1/2: HTTP 503 {"status":"down"}; next try in 1ms');
    expect(c.err[0]).toMatch(/^FAIL: .* in 2 attempts over 1ms \(timeout 5s each\)\.\n {2}last answer: HTTP 503/);
  });

  it("exits 2 on a usage error, 0 on --help", async () => {
    const c = capture();
    expect(await main(["--attempts", "x"], c.o, c.e)).toBe(2);
    expect(c.err[0]).toMatch(/^--attempts must be a whole number[\s\S]*usage: npm run smoke -- <url>/);
    expect(await main(["--help"], c.o, c.e)).toBe(0);
    expect(c.out.at(-1)).toMatch(/^usage: npm run smoke/);
  });

  // The process itself (tsx's loader, runCommand, the exit code) is spawned once, with the other commands, in
  // test/cli/commands.test.ts; here its `main` is settled as that process settles it.
  it("is what `npm run smoke` runs: exit 0 and the attempts on stdout, exit 1 and the verdict on stderr", async () => {
    const pkg = (await import("../../package.json")).default as { scripts: Record<string, string> };
    expect(pkg.scripts.smoke).toBe("node --import tsx infra/delivery/smoke.ts");
    let calls = 0;
    const base = await serve((_req, res) => (++calls === 1 ? json(res, 503, { status: "starting" }) : json(res, 200, { status: "ok" })));
    const { stdout } = await inProcess(main, base, "--attempts", "3", "--delay", "50ms");
    expect(stdout).toContain('attempt 1/3: HTTP 503 {"status":"starting"}; next try in 50ms');
    expect(stdout).toContain(`OK: ${base}/api/health is healthy (HTTP 200 {"status":"ok"}, attempt 2/3)`);
    const down = await serve((_req, res) => json(res, 500, { status: "error" }));
    const failed = await inProcess(main, down, "--attempts", "1");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`FAIL: ${down}/api/health did not answer`);
  });
});
