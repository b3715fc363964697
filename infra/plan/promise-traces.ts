/**
 * Short promise traces for the offline engine. The Pulumi SDK records a stack trace on every promise it
 * creates (`debuggablePromise` reads `new Error().stack` at once, thousands of times per plan), kept
 * only to name a promise it finds leaked at exit (PULUMI_DEBUG_PROMISE_LEAKS). Under tsx, which
 * enables source maps, and under vitest, whose interceptor maps stack traces, each is captured ten
 * frames deep and mapped frame by frame to TypeScript: a fifth of prod's offline plan, and of the test
 * suite's CPU time. Here those traces keep the frames that name the promise's maker (the SDK's function
 * and its caller, JavaScript that needs no mapping) as V8 writes them; the promise, its leak tracking
 * and every other error's trace are exactly the SDK's.
 *
 * Installed by the offline engine (installRecorder), for `npm run plan` and every plan of the tests
 * alike, never by the program: under the Pulumi CLI the SDK records its traces as it always does.
 */
import { debuggable, type DebuggablePromise } from "../sdk-internals";

const MARK = Symbol.for("diaspomoney.shortPromiseStacks");
/** debuggablePromise itself, the wrapper below, then the SDK function that made the promise. */
export const PROMISE_TRACE_FRAMES = 3;

/** A trace as V8 writes it when nothing maps it. */
function unmapped(error: Error, frames: NodeJS.CallSite[]): string {
  return `${Error.prototype.toString.call(error)}${frames.map((f) => `\n    at ${f}`).join("")}`;
}

/** `debuggablePromise` with its trace cut to PROMISE_TRACE_FRAMES frames, written unmapped. */
export function withShortTrace(original: DebuggablePromise): DebuggablePromise {
  const wrapped = function <T>(p: Promise<T>, ctx: unknown): Promise<T> {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    Error.stackTraceLimit = Math.min(limit, PROMISE_TRACE_FRAMES);
    Error.prepareStackTrace = unmapped;
    try {
      return original(p, ctx);
    } finally {
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = prepare;
    }
  };
  return Object.assign(wrapped, { [MARK]: true });
}

/** Whether the SDK's debuggablePromise is the short-trace wrapper. */
export const shortened = (): boolean => (debuggable.debuggablePromise as { [MARK]?: true })[MARK] === true;

/** Replaces the SDK's debuggablePromise with the wrapper, once per process (see sdk-internals.ts). */
export function shortenPromiseTraces(): void {
  if (!shortened()) debuggable.debuggablePromise = withShortTrace(debuggable.debuggablePromise);
}
