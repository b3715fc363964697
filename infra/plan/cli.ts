// `npm run plan -- <stack> [--out DIR]`: the stack program, offline, with Pulumi's engine replaced by a
// recorder. Writes the artefacts of `reporters` (plan.json, manifests/, graph.mmd) under DIR (default
// out/<stack>) and prints the tree, counts and a summary.
// `npm run plan -- diff <base plan.json> <head plan.json>`: the Markdown summary of what changes.
//
// The Pulumi SDK and the program load only when a stack is planned: usage errors, a bad --out and diffs
// answer at once. On bad input the contract of every command holds (infra/cli.ts, docs/commands.md).
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { STACK_NAMES, UnknownStackError } from "../../stacks";
import { runCommand, shownArgument, UsageError } from "../cli";
import { diffPlans, renderDiff } from "./diff";
import { deferUnusedSdkModules } from "./lazy-modules";
import { outFolderProblem } from "./out-folder";
import { readPlanFile } from "./plan-file";

const USAGE = `usage: npm run plan -- <stack> [--out DIR]
       npm run plan -- diff <base plan.json> <head plan.json>
       (stacks: ${STACK_NAMES.join(", ")})`;

const usage = (message: string) => new UsageError(message, USAGE);

/** The repository (run.ts's ROOT, known here without loading the SDK). */
const REPOSITORY = path.resolve(__dirname, "..", "..");

export interface PlanArgs {
  stack: string;
  /** Output folder; default `out/<stack>` in the repository. */
  out?: string;
  /** Folder holding `Pulumi.<stack>.yaml`; default the repository root. Internal: tests point it at a scratch copy. */
  configDir?: string;
}

export function parsePlanArgs(argv: string[]): PlanArgs {
  let stack: string | undefined;
  let out: string | undefined;
  let configDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (flag: string) => {
      if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw usage(`${flag} needs a value`);
      return v;
    };
    if (a === "--out" || a.startsWith("--out=")) out = value("--out");
    else if (a === "--config-dir" || a.startsWith("--config-dir=")) configDir = value("--config-dir");
    else if (a.startsWith("-")) throw usage(`unknown option "${a}"`);
    else if (!stack) stack = a;
    else throw usage(`unexpected argument ${shownArgument(a)}`);
  }
  if (!stack) throw usage("missing stack name");
  // An empty --out stays empty: the folder check refuses it rather than writing into the current folder.
  return { stack, out: out && path.resolve(out), configDir: configDir && path.resolve(configDir) };
}

/** Where the time of one `planCommand` went, for `npm run bench`. */
export interface PlanStats {
  resources?: number;
  /** Loading the SDK, the providers' packages and the program. */
  loadMs?: number;
  planMs?: number;
  artefactsMs?: number;
  /** Printing, policy findings included. */
  reportMs?: number;
}

/** `DIR` unless it cannot hold the artefacts: checked before the plan runs, so a mistake costs no wait. */
export function checkedOutFolder(dir: string): string {
  const problem = outFolderProblem(dir);
  if (problem) throw usage(`--out ${JSON.stringify(dir)} ${problem}`);
  return path.resolve(dir);
}

/** Plans a stack and writes its artefacts; validation errors are thrown before anything is written. */
export async function planCommand(args: PlanArgs, stats: PlanStats = {}): Promise<number> {
  if (!STACK_NAMES.includes(args.stack)) throw new UnknownStackError(args.stack);
  const out = checkedOutFolder(args.out ?? path.join(REPOSITORY, "out", args.stack));
  deferUnusedSdkModules();
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  const [{ generatedSecrets, ROOT, readStackConfigFile, planOffline }, { prepare }, { reporters, writeArtefacts }, { countByType, renderTree, summaryLine }] = await Promise.all([
    import("./run"),
    import("../program"),
    import("./artefacts"),
    import("./tree"),
  ]);
  stats.loadMs = lap();
  const configDir = args.configDir ?? ROOT;
  const plan = await planOffline(args.stack, readStackConfigFile(args.stack, configDir), prepare, configDir);
  stats.planMs = lap();
  stats.resources = plan.resources.length;
  const written = writeArtefacts(plan, out, generatedSecrets(), reporters);
  stats.artefactsMs = lap();

  console.log(renderTree(plan));
  console.log("\nResources by type:");
  for (const [type, n] of countByType(plan)) console.log(`  ${String(n).padStart(4)}  ${type}`);
  console.log("\nWritten:");
  const shown = written.filter((f) => !f.includes(`${path.sep}manifests${path.sep}`));
  const manifestCount = written.length - shown.length;
  for (const f of shown) console.log(`  ${path.relative(process.cwd(), f) || f}`);
  if (manifestCount) console.log(`  ${path.relative(process.cwd(), path.join(out, "manifests"))}/ (${manifestCount} file${manifestCount === 1 ? "" : "s"})`);
  // The compliance pack's verdict on the same resources (full report: `npm run audit -- <stack>`).
  console.log(`\n${await (await import("../compliance")).policyFindings(plan)}`);
  // The summary stays the last line: CI prints it for each stack (`tail -n 1`).
  console.log(`\n${summaryLine(plan, Math.round(stats.planMs))}`);
  stats.reportMs = lap();
  return 0;
}

/** Prints the Markdown diff of two plan files. Changes are the expected result: exit 0. */
export function diffCommand(argv: string[]): number {
  const option = argv.find((a) => a.startsWith("-"));
  if (option) throw usage(`unknown option "${option}" for diff`);
  if (argv.length !== 2) throw usage("diff takes two plan.json files: the base, then the head");
  const [base, head] = argv.map(readPlanFile);
  process.stdout.write(renderDiff(diffPlans(base, head)));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  if (argv[0] === "diff") return diffCommand(argv.slice(1));
  return planCommand(parsePlanArgs(argv));
}

if (require.main === module) runCommand(() => main(process.argv.slice(2)));
