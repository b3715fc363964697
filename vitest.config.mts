import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "components/**/*.test.ts", "infra/**/*.test.ts", "policy/**/*.test.ts"],
    // Each file runs its programs against Pulumi's process-global runtime: isolate files in forks.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CI also keeps a machine-readable report, from which .ci/run prints its closing line.
    reporters: process.env.VITEST_JSON_DIR ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON_DIR}/platform.json` }]] : ["default"],
  },
});
