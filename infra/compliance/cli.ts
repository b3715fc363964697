// `npm run audit -- <stack> [--out DIR]`: plans the stack offline (as `npm run plan` does), evaluates
// every control of the policy pack on it and writes DIR/audit.md and DIR/audit.json (default
// out/<stack>). Exit code 1 when a mandatory control fails or cannot be evaluated, 2 on a configuration
// error, 0 otherwise (advisory findings in dev do not fail the run).
import * as path from "node:path";
import { ConfigError } from "../config/load";
import { prepare } from "../program";
import { STACK_NAMES, UnknownStackError } from "../../stacks";
import { planOffline, ROOT, readStackConfigFile } from "../plan/run";
import { auditPlan } from "./index";
import { formatFindings, writeAuditArtefacts } from "./report";

const USAGE = `usage: npm run audit -- <stack> [--out DIR]
       (stacks: ${STACK_NAMES.join(", ")})`;

function parseArgs(argv: string[]): { stack: string; out: string } {
  let stack: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") out = argv[++i];
    else if (a.startsWith("--out=")) out = a.slice("--out=".length);
    else if (a === "-h" || a === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (!stack) stack = a;
    else throw new Error(`unexpected argument "${a}"\n${USAGE}`);
  }
  if (!stack) {
    console.error(`missing stack name\n${USAGE}`);
    process.exit(2);
  }
  return { stack, out: path.resolve(out || path.join(ROOT, "out", stack)) };
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (!STACK_NAMES.includes(args.stack)) throw new UnknownStackError(args.stack);
  // An environment reads its cluster stack's outputs: planOffline plans that stack first, as `npm run plan` does.
  const plan = await planOffline(args.stack, readStackConfigFile(args.stack), prepare);
  const audit = await auditPlan(plan);
  const written = writeAuditArtefacts(audit, args.out);
  console.log(formatFindings(audit));
  console.log("\nWritten:");
  for (const f of written) console.log(`  ${path.relative(process.cwd(), f) || f}`);
  return audit.summary.mandatoryFailures > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof ConfigError || err instanceof UnknownStackError;
    console.error(known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(known ? 2 : 1);
  },
);
