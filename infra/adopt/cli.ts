// `npm run adopt -- <stack> [--out FILE] [--plan plan.json] [--cloudflare-records FILE] [--cloudflare-rulesets FILE]`:
// the `pulumi import --file` input that adopts what already exists in the stack's cluster and zone,
// from the stack's offline plan (or a plan.json written by `npm run plan`). Writes FILE (default
// out/<stack>/import.json) and prints what it holds, what it leaves out and why, and the commands to run
// (docs/adoption.md). Exit 2 on a usage, stack or configuration error, with nothing written.
import * as fs from "node:fs";
import * as path from "node:path";
import { STACK_NAMES, UnknownStackError } from "../../stacks";
import { adoptionOf, parseCloudflareListing, type Adoption, type AdoptOptions } from "./import-file";
import type { Plan } from "../plan/run";

const USAGE = `usage: npm run adopt -- <stack> [--out FILE] [--plan plan.json] [--cloudflare-records FILE] [--cloudflare-rulesets FILE]
       (stacks: ${STACK_NAMES.join(", ")})`;

export class AdoptUsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = "UsageError";
  }
}

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
      if (value === undefined || value.startsWith("--")) throw new AdoptUsageError(`${flag} needs a value`);
      args[flags[flag]] = path.resolve(value);
    } else if (a.startsWith("-")) throw new AdoptUsageError(`unknown option "${a}"`);
    else if (!args.stack) args.stack = a;
    else throw new AdoptUsageError(`unexpected argument "${a}"`);
  }
  if (!args.stack) throw new AdoptUsageError("missing stack name");
  return args as AdoptArgs;
}

function readText(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new AdoptUsageError(`${what}: no such file ${file}`);
  return fs.readFileSync(file, "utf8");
}

async function planOf(args: AdoptArgs): Promise<Plan> {
  if (args.plan) {
    const plan = JSON.parse(readText(args.plan, "--plan")) as Plan;
    if (!plan || !Array.isArray(plan.resources) || plan.stack !== args.stack) throw new AdoptUsageError(`--plan ${args.plan} is not a plan.json of stack "${args.stack}"`);
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
  const opts: AdoptOptions = {};
  if (args.cloudflareRecords) opts.cloudflareRecords = parseCloudflareListing(readText(args.cloudflareRecords, "--cloudflare-records"), "--cloudflare-records");
  if (args.cloudflareRulesets) opts.cloudflareRulesets = parseCloudflareListing(readText(args.cloudflareRulesets, "--cloudflare-rulesets"), "--cloudflare-rulesets");
  const plan = await planOf(args);
  const adoption = adoptionOf(plan, opts);
  const out = args.out ?? path.resolve(__dirname, "..", "..", "out", args.stack, "import.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(adoption.file, null, 2)}\n`);
  console.log(renderAdoption(args.stack, out, adoption));
  return 0;
}

if (require.main === module) {
  (async () => adoptCommand(parseAdoptArgs(process.argv.slice(2))))().then(
    (code) => process.exit(code),
    (err: unknown) => {
      // Mistakes fixed from the message alone: no stack trace.
      const known = err instanceof Error && ["ConfigError", "UnknownStackError", "UsageError", "ClusterContractError"].includes(err.name);
      console.error(known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(known ? 2 : 1);
    },
  );
}
