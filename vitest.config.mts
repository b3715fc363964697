import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/** Files that test the process itself (what a fresh process has loaded): each in a process of its own. */
const FRESH_PROCESS = ["test/plan/lazy-modules.test.ts"];

export default defineConfig({
  test: {
    pool: "forks",
    // One worker per core (vitest's default keeps one core free): the workers wait on promtool and on
    // the commands some tests spawn, and a 2-core CI machine would otherwise run the files one by one.
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CI also keeps a machine-readable report, from which .ci/run prints its closing line.
    reporters: process.env.VITEST_JSON_DIR ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON_DIR}/platform.json` }]] : ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "platform",
          setupFiles: ["test/setup/promise-stacks.ts"],
          include: ["test/**/*.test.ts", "components/**/*.test.ts", "infra/**/*.test.ts", "policy/**/*.test.ts"],
          exclude: ["**/node_modules/**", ...FRESH_PROCESS],
          // The files of a worker share its modules instead of loading @pulumi/pulumi,
          // @pulumi/kubernetes and the program again for each file (two thirds of the run's time).
          // Safe because each plan starts from a clean Pulumi runtime: a fresh recording engine and
          // the stack's whole config replacing the last (installRecorder, setAllConfig in
          // infra/plan/run.ts), and the offline stack outputs cleared (planOffline).
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: "fresh-process", include: FRESH_PROCESS, isolate: true },
      },
    ],
  },
});
