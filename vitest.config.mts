import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "components/**/*.test.ts", "infra/**/*.test.ts", "policy/**/*.test.ts"],
    // Each file runs its programs against Pulumi's process-global runtime: isolate files in forks.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
