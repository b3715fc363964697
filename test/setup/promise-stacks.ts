/**
 * Test set-up (vitest `setupFiles` of the platform project). The Pulumi SDK records a stack trace on
 * every promise it creates (`debuggablePromise` reads `new Error().stack` at once, thousands of times
 * per plan), kept only to name a promise it finds leaked at exit. Under vitest each trace is captured
 * ten frames deep and mapped frame by frame to TypeScript by the source-map interceptor: a fifth of
 * the suite's CPU time. Here those traces keep the frames that name the promise's maker (the SDK's
 * function and its caller, JavaScript that needs no mapping) as V8 writes them; the promise, its leak
 * tracking and every other error's trace are exactly the SDK's. Nothing of the program changes: this
 * file runs in the test workers only.
 */
import { createRequire } from "node:module";
import * as path from "node:path";

type DebuggablePromise = <T>(p: Promise<T>, ctx: unknown) => Promise<T>;

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

// The SDK's modules call it as a property of the module's exports (`debuggable_1.debuggablePromise`),
// so replacing the export reaches every caller; once per worker (the files of a worker share modules).
const sdkRequire = createRequire(__filename);
/** The SDK's own module (`@pulumi/pulumi/runtime/debuggable`), as its other modules require it. */
export const debuggable = sdkRequire(path.join(path.dirname(sdkRequire.resolve("@pulumi/pulumi")), "runtime", "debuggable.js")) as {
  debuggablePromise: DebuggablePromise & { [MARK]?: true };
  leakedPromises(): [Set<Promise<unknown>>, string];
  promiseDebugString(p: Promise<unknown>): string;
};
if (!debuggable.debuggablePromise[MARK]) debuggable.debuggablePromise = withShortTrace(debuggable.debuggablePromise);
