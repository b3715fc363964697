// `npm run bench [-- --runs N] [stack...]`: runs `npm run plan` of each stack N times (default 5), each
// run in a fresh child process started one after the other, and prints resources, median times, peak
// memory and time per resource, with prod's wall time against the 3 s target and its plan against 1.5 s.
//
// Child processes, because a user's `npm run plan` is a cold process: module loading and JIT warm-up are
// part of what they wait for, and the Pulumi runtime is process-global state that a second in-process
// run would inherit. Sequential, so that runs never compete for the CPU and the medians compare.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as v8 from "node:v8";
import { STACK_NAMES, UnknownStackError } from "../../stacks";
import { describeFailure, exitCodeOf, runCommand, UsageError } from "../cli";
import type { PlanStats } from "./cli";

const TARGET_MS = 3000;
/** The offline plan itself (`planOffline`: prod's cluster stack, then prod), without loading or writing. */
const PLAN_TARGET_MS = 1500;
const TARGET_STACK = "prod";
/** Enough for stable medians; more only keeps the machine busy. */
const MAX_RUNS = 50;

/** What one child reports, on one JSON line. */
interface Sample {
  resources: number;
  /** From process start to the end of the command: tsx start-up, module loading, plan, writing, printing. */
  processMs: number;
  loadMs: number;
  planMs: number;
  artefactsMs: number;
  reportMs: number;
  cpuMs: number;
  maxRssMb: number;
  peakHeapMb: number;
}

/** One `npm run plan -- <stack> --out <out>`, the real command with its output discarded, measured. */
async function child(stack: string, out: string): Promise<void> {
  let peakHeap = 0;
  const sample = () => (peakHeap = Math.max(peakHeap, v8.getHeapStatistics().used_heap_size));
  // The plan awaits the engine often, so a short interval sees the heap between registrations.
  const timer = setInterval(sample, 5);
  const { planCommand } = await import("./cli");
  const stats: PlanStats = {};
  const log = console.log;
  console.log = () => undefined;
  try {
    await planCommand({ stack, out }, stats);
  } finally {
    console.log = log;
  }
  sample();
  clearInterval(timer);
  const cpu = process.cpuUsage();
  const result: Sample = {
    resources: stats.resources ?? 0,
    processMs: performance.now(),
    loadMs: stats.loadMs ?? 0,
    planMs: stats.planMs ?? 0,
    artefactsMs: stats.artefactsMs ?? 0,
    reportMs: stats.reportMs ?? 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: peakHeap / 2 ** 20,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** A child that failed: what it printed, and its exit code, which the bench passes on (2: a mistake, 1: a bug). */
class ChildFailed extends Error {
  constructor(
    readonly code: 1 | 2,
    readonly output: string,
  ) {
    super(output);
    this.name = "ChildFailed";
  }
}

function runChild(stack: string, out: string): Promise<Sample & { wallMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // process.execArgv carries tsx's loader flags, so the child runs this TypeScript file as we do.
    execFile(process.execPath, [...process.execArgv, __filename, "--child", stack, out], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new ChildFailed(err.code === 2 ? 2 : 1, `plan of ${stack} failed:\n${(stderr || err.message).trim()}`));
      const wallMs = performance.now() - started;
      resolve({ ...(JSON.parse(stdout.trim().split("\n").pop()!) as Sample), wallMs });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")).join("\n");
}

const USAGE = `usage: npm run bench -- [--runs N] [stack...]
       (N from 1 to ${MAX_RUNS}, default 5; stacks: ${STACK_NAMES.join(", ")}; default dev, rct, prod)`;

const usage = (message: string) => new UsageError(message, USAGE);

export function parseBenchArgs(argv: string[]): { runs: number; stacks: string[] } {
  let runs = 5;
  const stacks: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs" || a.startsWith("--runs=")) {
      const v = a === "--runs" ? argv[++i] : a.slice("--runs=".length);
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_RUNS) {
        throw usage(`--runs takes a whole number from 1 to ${MAX_RUNS}${v === undefined ? "" : `, not "${v}"`}`);
      }
      runs = Number(v);
    } else if (a.startsWith("-")) throw usage(`unknown option "${a}"`);
    else if (!STACK_NAMES.includes(a)) throw new UnknownStackError(a);
    else if (stacks.includes(a)) throw usage(`stack "${a}" is given twice`);
    else stacks.push(a);
  }
  return { runs, stacks: stacks.length ? stacks : ["dev", "rct", "prod"] };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const { runs, stacks } = parseBenchArgs(argv);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-bench-"));
  const header = ["stack", "resources", "wall", "in-process", "load", "plan", "artefacts", "report", "cpu", "peak RSS", "peak heap", "plan/resource"];
  const rows = [header];
  let targetLine = "";
  try {
    console.log(`${runs} run${runs === 1 ? "" : "s"} per stack, each in a new process, one at a time (${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}, Node ${process.version}); medians:`);
    for (const stack of stacks) {
      const samples: (Sample & { wallMs: number })[] = [];
      for (let i = 0; i < runs; i++) samples.push(await runChild(stack, path.join(scratch, `${stack}-${i}`)));
      const med = (k: keyof (typeof samples)[0]) => median(samples.map((s) => s[k]));
      const ms = (v: number) => `${Math.round(v)} ms`;
      const mb = (v: number) => `${v.toFixed(0)} MB`;
      rows.push([
        stack,
        String(samples[0].resources),
        ms(med("wallMs")),
        ms(med("processMs")),
        ms(med("loadMs")),
        ms(med("planMs")),
        ms(med("artefactsMs")),
        ms(med("reportMs")),
        ms(med("cpuMs")),
        mb(Math.max(...samples.map((s) => s.maxRssMb))),
        mb(Math.max(...samples.map((s) => s.peakHeapMb))),
        `${(med("planMs") / samples[0].resources).toFixed(2)} ms`,
      ]);
      if (stack === TARGET_STACK) {
        const against = (what: string, value: number, target: number) => {
          const r = value / target;
          return `${TARGET_STACK}: median ${what} ${ms(value)} = ${r.toFixed(2)} × the ${target / 1000} s target (${r < 1 ? `${ms(target - value)} to spare` : "OVER the target"}).`;
        };
        targetLine = `${against("wall", med("wallMs"), TARGET_MS)}\n${against("plan", med("planMs"), PLAN_TARGET_MS)}`;
      }
    }
  } catch (err) {
    if (!(err instanceof ChildFailed)) throw err;
    console.error(err.output);
    return err.code;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  console.log(table(rows));
  console.log("wall: spawn to exit, as `npm run plan` minus npm itself; in-process: from process start; report: printing and policy findings; peaks: the worst run.");
  if (targetLine) console.log(targetLine);
  return 0;
}

if (require.main === module) {
  if (process.argv[2] === "--child") {
    // The parent prints what the child says: one line for a mistake, the stack of a bug.
    child(process.argv[3], process.argv[4]).catch((err: unknown) => {
      console.error(describeFailure(err));
      process.exit(exitCodeOf(err));
    });
  } else runCommand(() => main(process.argv.slice(2)));
}
