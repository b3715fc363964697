import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The server tests start real processes; each file gets its own worker.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI also keeps a machine-readable report, from which .ci/run prints its closing line.
    reporters: process.env.VITEST_JSON_DIR ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON_DIR}/app.json` }]] : ["default"],
  },
});
