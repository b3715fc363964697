// `npm run plan -- <stack> [--out DIR]`: the stack program, offline, with Pulumi's engine replaced by a
// recorder. Writes the artefacts of `reporters` (plan.json, manifests/, graph.mmd) under DIR (default
// out/<stack>) and prints the tree, counts and a summary.
// `npm run plan -- diff <base plan.json> <head plan.json>`: the Markdown summary of what changes.
//
// The Pulumi SDK and the program load only when a stack is planned: usage errors and diffs answer at once.
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { STACK_NAMES, UnknownStackError } from "../../stacks";
import { diffPlans, renderDiff } from "./diff";
import { deferUnusedSdkModules } from "./lazy-modules";
import type { Plan } from "./run";

const USAGE = `usage: npm run plan -- <stack> [--out DIR]
       npm run plan -- diff <base plan.json> <head plan.json>
       (stacks: ${STACK_NAMES.join(", ")})`;

/** A mistake on the command line: the message and the usage, no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = "UsageError";
  }
}

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
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (a === "--out" || a.startsWith("--out=")) out = value("--out");
    else if (a === "--config-dir" || a.startsWith("--config-dir=")) configDir = value("--config-dir");
    else if (a.startsWith("-")) throw new UsageError(`unknown option "${a}"`);
    else if (!stack) stack = a;
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  if (!stack) throw new UsageError("missing stack name");
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

/** Plans a stack and writes its artefacts; validation errors are thrown before anything is written. */
export async function planCommand(args: PlanArgs, stats: PlanStats = {}): Promise<number> {
  if (!STACK_NAMES.includes(args.stack)) throw new UnknownStackError(args.stack);
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
  const out = args.out ?? path.join(ROOT, "out", args.stack);
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

function readPlanFile(file: string): Plan {
  if (!fs.existsSync(file)) throw new UsageError(`no such plan: ${file} (write one with \`npm run plan -- <stack> --out DIR\`)`);
  let plan: Plan;
  try {
    plan = JSON.parse(fs.readFileSync(file, "utf8")) as Plan;
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (!plan || !Array.isArray(plan.resources) || typeof plan.stack !== "string") throw new UsageError(`${file} is not a plan.json (no "stack" and "resources")`);
  plan.outputs ??= {};
  return plan;
}

/** Prints the Markdown diff of two plan files. Changes are the expected result: exit 0. */
export function diffCommand(argv: string[]): number {
  if (argv.length !== 2) throw new UsageError("diff takes two plan.json files: the base, then the head");
  const [base, head] = argv.map(readPlanFile);
  process.stdout.write(renderDiff(diffPlans(base, head)));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "-h" || argv[0] === "--help") {
    console.log(USAGE);
    return 0;
  }
  if (argv[0] === "diff") return diffCommand(argv.slice(1));
  return planCommand(parsePlanArgs(argv));
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      // Mistakes the user fixes from the message alone: no stack trace (classes loaded lazily, hence the names).
      const known = err instanceof Error && ["ConfigError", "UnknownStackError", "UsageError", "SecretLeakError", "ClusterContractError"].includes(err.name);
      console.error(known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(known ? 2 : 1);
    },
  );
}
