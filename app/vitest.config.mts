import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The server tests start real processes (dist/server.js) of their own. The files of a worker share
    // its modules rather than loading vitest and the app's libraries again per file: no test mocks,
    // stubs or changes process-wide state, and the suite passes with its files in any order (checked
    // with --sequence.shuffle.files, seeds 1, 7, 42, 99).
    pool: "forks",
    isolate: false,
    // Several files at once (the default on 2 cores is one): much of a file's time is spent waiting
    // on server timers and sockets. Not more: each server start-up costs about a CPU-second, and
    // more at once only adds contention for the tests that bound a delay. Every server listens on
    // a port the system chooses (PORT=0).
    maxWorkers: 3,
    // Files whose tests mostly wait (resilience, shutdown) run them concurrently
    // (describe.concurrent), a few at a time.
    maxConcurrency: 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI also keeps a machine-readable report, from which .ci/run prints its closing line.
    reporters: process.env.VITEST_JSON_DIR ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON_DIR}/app.json` }]] : ["default"],
  },
});
