/**
 * The offline engine's short promise traces (infra/plan/promise-traces.ts) change nothing but their
 * depth: the promise settles as before, leak tracking still sees it, other errors keep their full
 * trace. The offline engine installs them for every plan (installRecorder), as here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { PROMISE_TRACE_FRAMES, shortened, shortenPromiseTraces, withShortTrace } from "../../infra/plan/promise-traces";
import { installRecorder } from "../../infra/plan/recorder";
import { debuggable } from "../../infra/sdk-internals";

const frames = (trace: string) => trace.split("\n").filter((l) => l.startsWith("    at ")).length;

describe("short promise traces", () => {
  beforeAll(() => {
    shortenPromiseTraces();
    shortenPromiseTraces();
  });

  it("replaces the SDK's debuggablePromise once, with the wrapper", () => {
    expect(debuggable.debuggablePromise.name).toBe("wrapped");
    expect(Object.getOwnPropertySymbols(debuggable.debuggablePromise).map(String)).toEqual(["Symbol(diaspomoney.shortPromiseStacks)"]);
  });

  it("keeps the SDK's behaviour: the value, the rejection naming its promise, the leak tracking", async () => {
    await expect(debuggable.debuggablePromise(Promise.resolve(42), "a call")).resolves.toBe(42);
    const err = await debuggable.debuggablePromise(Promise.reject(new Error("no")), "a failing call").catch((e: Error & { promise?: unknown }) => e);
    expect(err.message).toBe("no");
    expect(err.promise).toBeInstanceOf(Promise);
    debuggable.leakedPromises(); // starts a fresh list of candidates
    const pending = new Promise<never>(() => {});
    void debuggable.debuggablePromise(pending, "a call that never answers");
    const [leaked, message] = debuggable.leakedPromises();
    expect([...leaked]).toEqual([pending]);
    expect(message).toContain("1 promise was still active");
    // What PULUMI_DEBUG_PROMISE_LEAKS prints of it: its context and where it was made.
    expect(debuggable.promiseDebugString(pending)).toMatch(/^CONTEXT\(\d+\): a call that never answers\nSTACK_TRACE:\nError\n {4}at debuggablePromise /);
  });

  it("cuts the trace of a promise to the frames that name its maker, and only that trace", () => {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    const given = Promise.resolve(2);
    void debuggable.debuggablePromise(given, "ctx");
    const trace: string = (given as never as { _debugStackTrace: string })._debugStackTrace;
    expect(frames(trace)).toBe(PROMISE_TRACE_FRAMES);
    expect(trace).toMatch(/^Error\n {4}at debuggablePromise \(.*debuggable\.js:\d+:\d+\)\n {4}at Object\.wrapped \[as debuggablePromise\] /);
    expect(trace).toContain("promise-traces.test.ts");
    // The limit and the interceptor are restored: any other error keeps the worker's full, mapped trace.
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Error.prepareStackTrace).toBe(prepare);
    expect(frames(new Error("elsewhere").stack!)).toBeGreaterThan(PROMISE_TRACE_FRAMES);
  });

  it("restores the trace limit and the interceptor when the SDK's function throws", () => {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    const short = withShortTrace(() => {
      throw new Error("thrown inside");
    });
    expect(() => short(Promise.resolve(1), "ctx")).toThrow("thrown inside");
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Error.prepareStackTrace).toBe(prepare);
  });

  it("are installed by the offline engine over whatever debuggablePromise the SDK has", () => {
    const installed = debuggable.debuggablePromise;
    const plain = <T>(p: Promise<T>) => p;
    debuggable.debuggablePromise = plain;
    try {
      expect(shortened()).toBe(false);
      installRecorder("project", "stack");
      expect(shortened()).toBe(true);
      expect(debuggable.debuggablePromise).not.toBe(plain);
      // Once: a second engine keeps the wrapper rather than wrapping it again.
      const first = debuggable.debuggablePromise;
      installRecorder("project", "stack");
      expect(debuggable.debuggablePromise).toBe(first);
    } finally {
      debuggable.debuggablePromise = installed;
    }
  });
});
