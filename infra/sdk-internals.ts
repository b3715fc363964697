/**
 * The few internals of `@pulumi/pulumi` the program and the offline engine need and the SDK's typings hide. The SDK
 * is pinned to an exact version in package.json; test/plan/recorder.test.ts fails if one moves.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const { getStore } = require("@pulumi/pulumi/runtime/state") as {
  getStore(): Record<string, any> & { settings: Record<string, any> };
};
export const { waitForRPCs, setMockOptions, getMonitor } = require("@pulumi/pulumi/runtime/settings") as {
  /** Resolves once every pending registration has been answered. */
  waitForRPCs(): Promise<void>;
  setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean): void;
  getMonitor(): unknown;
};
export const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as {
  /** Whether a full config key (`project:key`) was given encrypted. */
  isConfigSecret(key: string): boolean;
};
/** A promise the SDK tags with a context and a stack trace for its leak report. */
export type DebuggablePromise = <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
/**
 * The SDK's promise-debugging module itself, not a copy of its exports: the SDK's modules call
 * `debuggable_1.debuggablePromise`, so what is assigned here reaches every caller.
 */
export const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise: DebuggablePromise;
  leakedPromises(): [Set<Promise<unknown>>, string];
  promiseDebugString(p: Promise<unknown>): string;
};
