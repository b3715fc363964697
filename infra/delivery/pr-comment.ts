// `tsx infra/delivery/pr-comment.ts <dir> [--base SHA] [--head SHA] [--run-url URL]`: the pull request's
// sticky comment, from what the pull-request workflow's plan job left in <dir>/<stack>/:
//   base.status, head.status  "ok" or "failed" (the offline plan of the base and of the head)
//   base.log, head.log        their output, shown when they failed
//   diff.md                   `npm run plan -- diff` of the two plans
//   audit.status, audit.md    "passed" or "failed" and the output of `npm run audit -- <stack>`, when
//                             the project has an audit script
// Prints Markdown on stdout. The workflow decides pass or fail from the status files, not from this.
import * as fs from "node:fs";
import * as path from "node:path";
import { deployTargets } from "./targets";

/** First line of the comment: how the workflow finds its own comment again to update it. */
export const PLAN_COMMENT_MARKER = "<!-- diaspomoney:offline-plan -->";

/** GitHub refuses comments over 65,536 characters; keep room for the marker and footer. */
export const MAX_COMMENT_CHARS = 60_000;

const LOG_TAIL_LINES = 60;

export type PlanStatus = "ok" | "failed" | "missing";
export type AuditStatus = "passed" | "failed" | "absent";

export interface StackReport {
  stack: string;
  base: PlanStatus;
  head: PlanStatus;
  baseLog?: string;
  headLog?: string;
  diff?: string;
  audit: AuditStatus;
  auditOutput?: string;
}

export interface CommentContext {
  baseSha?: string;
  headSha?: string;
  runUrl?: string;
}

function readIfExists(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

export function readStackReport(dir: string, stack: string): StackReport {
  const at = (name: string) => readIfExists(path.join(dir, stack, name));
  const plan = (name: string): PlanStatus => {
    const s = at(name)?.trim();
    return s === "ok" ? "ok" : s === undefined ? "missing" : "failed";
  };
  const auditRaw = at("audit.status")?.trim();
  return {
    stack,
    base: plan("base.status"),
    head: plan("head.status"),
    baseLog: at("base.log"),
    headLog: at("head.log"),
    diff: at("diff.md"),
    audit: auditRaw === undefined ? "absent" : auditRaw === "passed" ? "passed" : "failed",
    auditOutput: at("audit.md"),
  };
}

/** A code fence longer than any run of backticks in `text`, so a log cannot close it early. */
function fenced(text: string, info = "text"): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${info}\n${text.trimEnd()}\n${fence}`;
}

function tail(text: string | undefined, lines = LOG_TAIL_LINES): string {
  const all = (text ?? "(no output)").trimEnd().split("\n");
  return all.length > lines ? [`… ${all.length - lines} earlier lines in the run's log`, ...all.slice(-lines)].join("\n") : all.join("\n");
}

/** The diff's headline (`**1 to add, …**` or `No changes …`), for the table. */
export function changeSummary(report: StackReport): string {
  if (report.head !== "ok") return report.head === "missing" ? "head not planned" : "**head plan failed**";
  if (report.base !== "ok") return report.base === "missing" ? "no base plan (new stack?)" : "base plan failed: no diff";
  if (report.diff === undefined) return "**diff failed**";
  const line = report.diff.split("\n").find((l) => l.startsWith("**") || l.startsWith("No changes"));
  return (line ?? "see details").replace(/\|/g, "\\|").replace(/;.*$/, "").trim();
}

const auditCell: Record<AuditStatus, string> = { passed: "passed", failed: "**failed**", absent: "not run (no audit script)" };

function sections(report: StackReport): string[] {
  const out: string[] = [];
  const details = (summary: string, body: string) => `<details><summary>${summary}</summary>\n\n${body.trimEnd()}\n\n</details>`;
  if (report.head === "failed") out.push(details(`${report.stack}: head plan failed`, fenced(tail(report.headLog))));
  if (report.base === "failed") out.push(details(`${report.stack}: base plan failed`, fenced(tail(report.baseLog))));
  if (report.diff !== undefined && report.head === "ok" && report.base === "ok") {
    out.push(details(`${report.stack}: ${changeSummary(report).replace(/\*\*/g, "")}`, report.diff));
  }
  if (report.audit !== "absent") {
    out.push(details(`${report.stack}: policy audit ${report.audit}`, fenced(tail(report.auditOutput, 120))));
  }
  return out;
}

const short = (sha?: string) => (sha ? `\`${sha.slice(0, 7)}\`` : "?");

export function renderComment(reports: StackReport[], context: CommentContext = {}): string {
  const head = [
    PLAN_COMMENT_MARKER,
    `## Offline plan: base ${short(context.baseSha)} → head ${short(context.headSha)}`,
    "",
    "| Stack | Plan: base → head | Changes | Policy audit |",
    "|---|---|---|---|",
    ...reports.map((r) => `| \`${r.stack}\` | ${r.base} → ${r.head} | ${changeSummary(r)} | ${auditCell[r.audit]} |`),
    "",
  ].join("\n");
  const footer = [
    "",
    "<sub>Offline: the stack programs ran on Pulumi's engine replaced by a recorder, without cluster or cloud " +
      "(`npm run plan`). `pulumi preview` of the real stacks follows in separate comments when the pull request " +
      `comes from this repository.${context.runUrl ? ` [Workflow run](${context.runUrl}).` : ""}</sub>`,
  ].join("\n");
  let body = head;
  const all = reports.flatMap(sections);
  for (let i = 0; i < all.length; i++) {
    if (body.length + all[i].length + footer.length + 200 > MAX_COMMENT_CHARS) {
      body += `\n_${all.length - i} more section${all.length - i === 1 ? "" : "s"} left out: GitHub limits a comment to 65,536 characters. The full output is in the workflow run's summary and logs._\n`;
      break;
    }
    body += `\n${all[i]}\n`;
  }
  return `${body}${footer}\n`;
}

function parseArgs(argv: string[]): { dir: string; context: CommentContext } {
  const context: CommentContext = {};
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--base") context.baseSha = argv[++i];
    else if (a === "--head") context.headSha = argv[++i];
    else if (a === "--run-url") context.runUrl = argv[++i];
    else if (!dir && !a.startsWith("-")) dir = a;
    else throw new Error(`unexpected argument "${a}"\nusage: tsx infra/delivery/pr-comment.ts <dir> [--base SHA] [--head SHA] [--run-url URL]`);
  }
  if (!dir) throw new Error("missing <dir>\nusage: tsx infra/delivery/pr-comment.ts <dir> [--base SHA] [--head SHA] [--run-url URL]");
  return { dir, context };
}

if (require.main === module) {
  try {
    const { dir, context } = parseArgs(process.argv.slice(2));
    process.stdout.write(renderComment(deployTargets.map((t) => readStackReport(dir, t.stack)), context));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
}
