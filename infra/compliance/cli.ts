// `npm run audit -- <stack> [--out DIR]`: plans the stack offline (as `npm run plan` does), evaluates
// every control of the policy pack on it and writes DIR/audit.md and DIR/audit.json (default
// out/<stack>). Exit code 1 when a mandatory control fails or cannot be evaluated, 2 on a usage,
// configuration or output folder error (infra/cli.ts), 0 otherwise (advisory findings in dev do not
// fail the run). The SDK and the program load only once the command line is known to be right.
import * as path from "node:path";
import { STACK_NAMES, UnknownStackError } from "../../stacks";
import { runCommand, shownArgument, UsageError } from "../cli";
import { OutputError, outFolderProblem, reasonOf } from "../plan/out-folder";

const USAGE = `usage: npm run audit -- <stack> [--out DIR]
       (stacks: ${STACK_NAMES.join(", ")})`;

const usage = (message: string) => new UsageError(message, USAGE);

export interface AuditArgs {
  stack: string;
  /** Output folder; default `out/<stack>` in the repository. */
  out: string;
}

export function parseAuditArgs(argv: string[]): AuditArgs {
  let stack: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out" || a.startsWith("--out=")) {
      out = a === "--out" ? argv[++i] : a.slice("--out=".length);
      if (out === undefined || (a === "--out" && out.startsWith("--"))) throw usage("--out needs a value");
    } else if (a.startsWith("-")) throw usage(`unknown option "${a}"`);
    else if (!stack) stack = a;
    else throw usage(`unexpected argument ${shownArgument(a)}`);
  }
  if (!stack) throw usage("missing stack name");
  if (!STACK_NAMES.includes(stack)) throw new UnknownStackError(stack);
  out ??= path.resolve(__dirname, "..", "..", "out", stack);
  const problem = outFolderProblem(out);
  if (problem) throw usage(`--out ${JSON.stringify(out)} ${problem}`);
  return { stack, out: path.resolve(out) };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const args = parseAuditArgs(argv);
  const [{ planOffline, readStackConfigFile }, { prepare }, { auditPlan }, { formatFindings, writeAuditArtefacts }] = await Promise.all([
    import("../plan/run"),
    import("../program"),
    import("./index"),
    import("./report"),
  ]);
  // An environment reads its cluster stack's outputs: planOffline plans that stack first, as `npm run plan` does.
  const plan = await planOffline(args.stack, readStackConfigFile(args.stack), prepare);
  const audit = await auditPlan(plan);
  let written: string[];
  try {
    written = writeAuditArtefacts(audit, args.out);
  } catch (err) {
    // report.ts writes file by file: what was written before the failure may stay, so no promise here.
    if ((err as { syscall?: unknown }).syscall === undefined) throw err;
    throw new OutputError(args.out, reasonOf(err), false);
  }
  console.log(formatFindings(audit));
  console.log("\nWritten:");
  for (const f of written) console.log(`  ${path.relative(process.cwd(), f) || f}`);
  return audit.summary.mandatoryFailures > 0 ? 1 : 0;
}

if (require.main === module) runCommand(() => main(process.argv.slice(2)));
