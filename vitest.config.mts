import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take longest (most wait on another process: promtool, the policy pack, a spawned
 * command, ts-node), started first so that the run does not end on one of them with the other
 * workers idle. Vitest orders by the last run's durations when it has them; a fresh clone (CI) has
 * none, and would start the largest files first.
 */
const LONGEST_FIRST = [
  "test/plan/cli.test.ts",
  "test/policy/analyzer.test.ts",
  "test/observability/anomaly-evaluation.test.ts",
  "test/cli/commands.test.ts",
  "test/application/app.test.ts",
  "test/policy/audit.test.ts",
  "test/bad-input/property.test.ts",
  "test/plan/offline.test.ts",
  "test/delivery/smoke.test.ts",
  "test/entry/entry.test.ts",
  "test/plan/lazy-modules.test.ts",
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(`/${name}`));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // Within a project only: vitest runs its projects one after the other.
    const projectStart = new Map<string, number>();
    sorted.forEach((f, i) => projectStart.has(f.project.name) || projectStart.set(f.project.name, i));
    const order = new Map(sorted.map((f, i) => [f, i]));
    return [...sorted].sort((a, b) => projectStart.get(a.project.name)! - projectStart.get(b.project.name)! || rank(a) - rank(b) || order.get(a)! - order.get(b)!);
  }
}


export default defineConfig({
  test: {
    pool: "forks",
    sequence: { sequencer: LongestFirst },
    // One worker per core (vitest's default keeps a core free): on a 2-core CI machine it would run the
    // files one by one (89 s, against 34 to 46 s with 2 workers as the machine varies from run to run;
    // a third worker measured within that noise, for one more load of the SDK).
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
          setupFiles: ["test/setup/sdk-modules.ts"],
          include: ["test/**/*.test.ts", "components/**/*.test.ts", "infra/**/*.test.ts", "policy/**/*.test.ts"],
          exclude: ["**/node_modules/**"],
          // The files of a worker share its modules instead of loading @pulumi/pulumi,
          // @pulumi/kubernetes and the program again for each file (two thirds of the run's time).
          // Safe because each plan starts from a clean Pulumi runtime: a fresh recording engine and
          // the stack's whole config replacing the last (installRecorder, setAllConfig in
          // infra/plan/run.ts), and the offline stack outputs cleared (planOffline).
          isolate: false,
          // A young generation of 64 MB instead of V8's 16: a plan keeps most of what it allocates alive
          // until it ends (pending outputs, recorded resources), so each 16 MB scavenge copied most of
          // its objects and freed little. Scavenge pauses over a run (--trace-gc, both workers): 509
          // taking 6.1 s at 16 MB, 149 taking 3.2 s at 64 MB. In CPU time, 4 interleaved runs each: the
          // workers 34.7 s against 35.9 s; the run's wall time within its noise. Peak RSS +80 MB.
          execArgv: ["--max-semi-space-size=64"],
        },
      },
    ],
  },
});
