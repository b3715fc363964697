// `npm run plan -- <stack> [--out DIR]`: the stack program, offline, with Pulumi's engine replaced by a
// recorder. Writes DIR/plan.json (default out/<stack>); prints the tree, counts and a summary.
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../config/load";
import { prepare } from "../program";
import { UnknownStackError, environments } from "../../stacks";
import { ROOT, readStackConfigFile, runPlan, type Plan } from "./run";
import { countByType, renderTree, summaryLine } from "./tree";

const USAGE = `usage: npm run plan -- <stack> [--out DIR]
       (stacks: ${Object.keys(environments).join(", ")})`;

interface Args {
  stack: string;
  out: string;
}

function parseArgs(argv: string[]): Args {
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
  if (!stack) throw new Error(`missing stack name\n${USAGE}`);
  if (out === undefined || out === "") out = path.join(ROOT, "out", stack);
  return { stack, out: path.resolve(out) };
}

export function writePlanArtefacts(plan: Plan, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "plan.json");
  fs.writeFileSync(file, `${JSON.stringify(plan, null, 2)}\n`);
  return [file];
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (!Object.prototype.hasOwnProperty.call(environments, args.stack)) throw new UnknownStackError(args.stack);
  const started = process.hrtime.bigint();
  const plan = await runPlan(args.stack, readStackConfigFile(args.stack), prepare);
  const millis = Number((process.hrtime.bigint() - started) / 1_000_000n);
  const written = writePlanArtefacts(plan, args.out);

  console.log(renderTree(plan));
  console.log("\nResources by type:");
  for (const [type, n] of countByType(plan)) console.log(`  ${String(n).padStart(4)}  ${type}`);
  console.log("\nWritten:");
  for (const f of written) console.log(`  ${path.relative(process.cwd(), f) || f}`);
  console.log(`\n${summaryLine(plan, millis)}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof ConfigError || err instanceof UnknownStackError;
    console.error(known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(known ? 2 : 1);
  },
);
