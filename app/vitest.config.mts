import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The server tests start real processes; each file gets its own worker.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
