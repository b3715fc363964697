// `npm run adopt -- <stack> [--out FILE] [--plan plan.json] [--cloudflare-records FILE] [--cloudflare-rulesets FILE]`:
// the `pulumi import --file` input that adopts what already exists in the stack's cluster and zone,
// from the stack's offline plan (or a plan.json written by `npm run plan`). Writes FILE (default
// out/<stack>/import.json) and prints what it holds, what it leaves out and why, and the commands to run
// (docs/adoption.md). Exit 2 on a usage, stack, file or configuration error, with nothing written
// (infra/cli.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { STACK_NAMES, UnknownStackError } from "../../stacks";
import { runCommand, shownArgument, UsageError } from "../cli";
import { commitArtefacts, outFileProblem } from "../plan/out-folder";
import { PlanFileError, readPlanFile } from "../plan/plan-file";
import { adoptionOf, parseCloudflareListing, type Adoption, type AdoptOptions } from "./import-file";
import type { Plan } from "../plan/run";

const USAGE = `usage: npm run adopt -- <stack> [--out FILE] [--plan plan.json] [--cloudflare-records FILE] [--cloudflare-rulesets FILE]
       (stacks: ${STACK_NAMES.join(", ")})`;

const usage = (message: string) => new UsageError(message, USAGE);

export interface AdoptArgs {
  stack: string;
  out?: string;
  plan?: string;
  cloudflareRecords?: string;
  cloudflareRulesets?: string;
}

export function parseAdoptArgs(argv: string[]): AdoptArgs {
  const args: Partial<AdoptArgs> = {};
  const flags: Record<string, keyof AdoptArgs> = { "--out": "out", "--plan": "plan", "--cloudflare-records": "cloudflareRecords", "--cloudflare-rulesets": "cloudflareRulesets" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = Object.keys(flags).find((f) => a === f || a.startsWith(`${f}=`));
    if (flag) {
      const value = a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : argv[++i];
      if (value === undefined || value === "" || value.startsWith("--")) throw usage(`${flag} needs a value`);
      if (args[flags[flag]] !== undefined) throw usage(`${flag} is given twice`);
      args[flags[flag]] = path.resolve(value);
    } else if (a.startsWith("-")) throw usage(`unknown option "${a}"`);
    else if (!args.stack) args.stack = a;
    else throw usage(`unexpected argument ${shownArgument(a)}`);
  }
  if (!args.stack) throw usage("missing stack name");
  // A given --out is refused at once; adoptCommand checks the default one before planning.
  const outProblem = args.out === undefined ? undefined : outFileProblem(args.out);
  if (outProblem) throw usage(`--out ${JSON.stringify(args.out)} ${outProblem}`);
  return args as AdoptArgs;
}

function readText(file: string, what: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw usage(`${what}: no such file ${file}`);
  if (!stat.isFile()) throw usage(`${what}: ${file} is not a file`);
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw usage(`${what}: ${file} cannot be read (${(err as { code?: string }).code ?? (err as Error).message})`);
  }
}

/** Cloudflare's listing of `what`: a file that is not one is the user's mistake, named on one line. */
function listingOf(file: string, what: string) {
  const text = readText(file, what);
  try {
    JSON.parse(text);
  } catch {
    // Checked here so that the parser's message, which quotes the file, is not shown.
    throw usage(`${what}: ${file} is not JSON`);
  }
  try {
    return parseCloudflareListing(text, what);
  } catch (err) {
    throw usage((err as Error).message.split("\n")[0]);
  }
}

async function planOf(args: AdoptArgs): Promise<Plan> {
  if (args.plan) {
    const plan = readPlanFile(args.plan);
    if (plan.stack !== args.stack) throw new PlanFileError(`--plan ${args.plan} is the plan of stack "${plan.stack}", not "${args.stack}"`);
    return plan;
  }
  const [{ planOffline, readStackConfigFile, ROOT }, { prepare }] = await Promise.all([import("../plan/run"), import("../program")]);
  return planOffline(args.stack, readStackConfigFile(args.stack, ROOT), prepare, ROOT);
}

/** The report printed after the file is written: counts, what is left out, the commands. */
export function renderAdoption(stack: string, file: string, a: Adoption): string {
  const lines = [`Import file for stack "${stack}": ${file}`, ""];
  const total = Object.values(a.counts).reduce((n, c) => n + c, 0);
  lines.push(`${total} existing object${total === 1 ? "" : "s"} to adopt, under ${a.file.resources.length - total} component${a.file.resources.length - total === 1 ? "" : "s"}:`);
  for (const [type, n] of Object.entries(a.counts).sort()) lines.push(`  ${String(n).padStart(4)}  ${type}`);
  if (a.skipped.length) {
    lines.push("", "Left out (created, or adopted by hand):");
    const byReason = new Map<string, string[]>();
    for (const s of a.skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), `${s.type.split(":").pop()} ${s.urn.split("::").pop()}`]);
    for (const [reason, what] of byReason) lines.push(`  - ${reason}: ${what.join(", ")}`);
  }
  if (a.generatedSecrets.length) {
    lines.push("", "Secrets whose data the program generates (the first up replaces their live values unless you keep them, docs/adoption.md):");
    for (const s of a.generatedSecrets) lines.push(`  - ${s.secret} from ${s.sources.join(", ")}`);
  }
  lines.push(
    "",
    "Then, with the stack selected (docs/adoption.md):",
    `  pulumi up ${a.providerTargets.map((u) => `--target '${u}'`).join(" ")}`,
    `  pulumi import --file ${path.relative(process.cwd(), file) || file} --protect=false --generate-code=false`,
    "  pulumi preview --diff        # updates only where the live objects differ from the program; no replacement",
  );
  return lines.join("\n");
}

export async function adoptCommand(args: AdoptArgs): Promise<number> {
  if (!STACK_NAMES.includes(args.stack)) throw new UnknownStackError(args.stack);
  const out = args.out ?? path.resolve(__dirname, "..", "..", "out", args.stack, "import.json");
  const outProblem = outFileProblem(out);
  if (outProblem) throw usage(`--out ${JSON.stringify(out)} ${outProblem}`);
  const opts: AdoptOptions = {};
  if (args.cloudflareRecords) opts.cloudflareRecords = listingOf(args.cloudflareRecords, "--cloudflare-records");
  if (args.cloudflareRulesets) opts.cloudflareRulesets = listingOf(args.cloudflareRulesets, "--cloudflare-rulesets");
  const plan = await planOf(args);
  const adoption = adoptionOf(plan, opts);
  // Written whole or not at all, as the plan's artefacts are.
  commitArtefacts(path.dirname(out), [{ path: path.basename(out), content: `${JSON.stringify(adoption.file, null, 2)}\n` }]);
  console.log(renderAdoption(args.stack, out, adoption));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  return adoptCommand(parseAdoptArgs(argv));
}

if (require.main === module) runCommand(() => main(process.argv.slice(2)));
