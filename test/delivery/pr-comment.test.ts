import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  changeSummary,
  MAX_COMMENT_CHARS,
  PLAN_COMMENT_MARKER,
  readStackReport,
  renderComment,
  type StackReport,
} from "../../infra/delivery/pr-comment";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Lays out <dir>/<stack>/<file> as the pull-request workflow's plan job does. */
function layout(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-comment-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

const devDiff = [
  "## Plan diff: diaspomoney-platform/dev",
  "",
  "**1 to add, 0 to replace, 1 to update, 0 to remove**; 120 unchanged.",
  "",
  "### Updated (1)",
  "",
  "- kubernetes:apps/v1:Deployment web (diaspomoney-dev/web)",
  "  - spec.replicas: 3 → 4",
].join("\n");

describe("reading the plan job's files", () => {
  it("reads statuses, logs, the diff and the audit of a stack", () => {
    const dir = layout({
      "dev/base.status": "ok\n",
      "dev/head.status": "ok\n",
      "dev/diff.md": devDiff,
      "dev/audit.status": "failed\n",
      "dev/audit.md": "pci-no-plain-secrets: Secret in ConfigMap app-config",
    });
    expect(readStackReport(dir, "dev")).toMatchObject({ stack: "dev", base: "ok", head: "ok", diff: devDiff, audit: "failed" });
  });

  it("tells a missing plan from a failed one, and an absent audit from a failed one", () => {
    const dir = layout({ "rct/head.status": "failed\n", "rct/head.log": "Error: boom" });
    expect(readStackReport(dir, "rct")).toMatchObject({ base: "missing", head: "failed", headLog: "Error: boom", audit: "absent" });
  });
});

describe("the sticky comment", () => {
  const reports: StackReport[] = [
    { stack: "dev", base: "ok", head: "ok", diff: devDiff, audit: "passed", auditOutput: "0 violations" },
    { stack: "rct", base: "ok", head: "failed", headLog: "Invalid configuration for stack \"rct\" (1 problem)", audit: "absent" },
    { stack: "prod", base: "ok", head: "ok", diff: "## Plan diff: diaspomoney-platform/prod\n\nNo changes (300 resources unchanged).\n", audit: "failed", auditOutput: "gdpr-eu-region: violation" },
  ];

  it("starts with the marker the workflow looks for, then one table row per stack", () => {
    const body = renderComment(reports, { baseSha: "0123456789abcdef", headSha: "fedcba9876543210", runUrl: "https://github.com/o/r/actions/runs/1" });
    const lines = body.split("\n");
    expect(lines[0]).toBe(PLAN_COMMENT_MARKER);
    expect(lines[1]).toBe("## Offline plan: base `0123456` → head `fedcba9`");
    expect(lines).toContain("| `dev` | ok → ok | **1 to add, 0 to replace, 1 to update, 0 to remove** | passed |");
    expect(lines).toContain("| `rct` | ok → failed | **head plan failed** | not run (no audit script) |");
    expect(lines).toContain("| `prod` | ok → ok | No changes (300 resources unchanged). | **failed** |");
    expect(body).toContain("[Workflow run](https://github.com/o/r/actions/runs/1)");
  });

  it("carries each diff, the failed plan's log and the audit output in collapsible sections", () => {
    const body = renderComment(reports);
    expect(body).toContain("<details><summary>dev: 1 to add, 0 to replace, 1 to update, 0 to remove</summary>\n\n## Plan diff: diaspomoney-platform/dev");
    expect(body).toContain("  - spec.replicas: 3 → 4");
    expect(body).toContain('<details><summary>rct: head plan failed</summary>\n\n```text\nInvalid configuration for stack "rct" (1 problem)\n```');
    expect(body).toContain("<details><summary>prod: policy audit failed</summary>\n\n```text\ngdpr-eu-region: violation\n```");
  });

  it("fences a log with more backticks than the log holds, so the log cannot break the comment", () => {
    const body = renderComment([{ stack: "dev", base: "ok", head: "failed", headLog: "at ```weird``` line", audit: "absent" }]);
    expect(body).toContain("````text\nat ```weird``` line\n````");
  });

  it("keeps the last lines of a long log", () => {
    const log = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n");
    const body = renderComment([{ stack: "dev", base: "ok", head: "failed", headLog: log, audit: "absent" }]);
    expect(body).toContain("… 40 earlier lines in the run's log\nline 41\n");
    expect(body).toContain("line 100\n```");
    expect(body).not.toContain("line 40\n");
  });

  it("stays under GitHub's comment limit, saying what it left out", () => {
    const huge = `**9000 to add, 0 to replace, 0 to update, 0 to remove**; 0 unchanged.\n\n${"- kubernetes:core/v1:ConfigMap x\n".repeat(1500)}`;
    const body = renderComment(["dev", "rct", "prod"].map((stack) => ({ stack, base: "ok" as const, head: "ok" as const, diff: huge, audit: "absent" as const })));
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(body).toMatch(/_2 more sections left out: GitHub limits a comment to 65,536 characters/);
    expect(body.split("\n")).toContain("| `prod` | ok → ok | **9000 to add, 0 to replace, 0 to update, 0 to remove** | not run (no audit script) |");
  });

  it("explains a missing diff instead of showing an empty cell", () => {
    expect(changeSummary({ stack: "dev", base: "missing", head: "ok", audit: "absent" })).toBe("no base plan (new stack?)");
    expect(changeSummary({ stack: "dev", base: "failed", head: "ok", audit: "absent" })).toBe("base plan failed: no diff");
    expect(changeSummary({ stack: "dev", base: "ok", head: "ok", audit: "absent" })).toBe("**diff failed**");
  });
});
