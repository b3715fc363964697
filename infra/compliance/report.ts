/**
 * The auditors' report: `audit.md` for people, `audit.json` for tools. Both are built only from the
 * evaluation's rendered values, which mask secrets; writing refuses anything that still looks like one.
 */
import type { Evidence } from "../../policy/lib/control";
import { FRAMEWORKS, refLabel, type FrameworkName, type FrameworkRef } from "../../policy/lib/frameworks";
import { TOKEN_SHAPES } from "../../policy/lib/secrets";
import { credentialKinds } from "../config/credentials";
import { SecretLeakError, type Leak } from "../plan/artefacts";
import { commitArtefacts } from "../plan/out-folder";
import type { AuditResult, ControlResult, ControlStatus } from "./evaluate";

/** Passing evidence rows shown per control in audit.md (all of them are in audit.json). */
const EVIDENCE_ROWS = 25;

const STATUS: Record<ControlStatus, string> = { pass: "PASS", fail: "FAIL", "not-applicable": "N/A", error: "ERROR" };

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** One framework's standing in an audit: its requirements and the controls that check them. */
export interface FrameworkSummary {
  name: FrameworkName;
  title: string;
  /** Requirements (criteria, articles) the pack's controls cite. */
  requirements: number;
  /** Every control citing it passed (or was not applicable, with at least one passing). */
  met: number;
  /** Cited by at least one failing (or erroring) control. */
  notMet: string[];
  /** Cited only by controls that did not apply to this stack. */
  notAssessed: string[];
  controls: { total: number; passed: number; failed: number; notApplicable: number; errors: number };
}

/** The audit seen framework by framework: a requirement is met only if no control citing it fails. */
export function frameworkSummary(a: Pick<AuditResult, "controls">): FrameworkSummary[] {
  return FRAMEWORKS.map(({ name, title }) => {
    const citing = a.controls.filter((c) => c.references.some((r) => r.name === name));
    const byRequirement = new Map<string, ControlStatus[]>();
    for (const c of citing)
      for (const r of c.references.filter((x) => x.name === name)) byRequirement.set(r.reference, [...(byRequirement.get(r.reference) ?? []), c.status]);
    const notMet: string[] = [];
    const notAssessed: string[] = [];
    let met = 0;
    for (const [reference, statuses] of byRequirement) {
      if (statuses.some((st) => st === "fail" || st === "error")) notMet.push(reference);
      else if (statuses.every((st) => st === "not-applicable")) notAssessed.push(reference);
      else met++;
    }
    const count = (st: ControlStatus) => citing.filter((c) => c.status === st).length;
    return {
      name,
      title,
      requirements: byRequirement.size,
      met,
      notMet,
      notAssessed,
      controls: { total: citing.length, passed: count("pass"), failed: count("fail"), notApplicable: count("not-applicable"), errors: count("error") },
    };
  });
}

function frameworkLine(f: FrameworkSummary): string {
  const c = f.controls;
  return (
    `${f.name}: ${f.met}/${f.requirements} requirements met` +
    (f.notMet.length ? `, not met: ${f.notMet.join(", ")}` : "") +
    (f.notAssessed.length ? `, not assessed here: ${f.notAssessed.join(", ")}` : "") +
    ` (${c.total} controls: ${c.passed} passed, ${c.failed} failed, ${c.notApplicable} not applicable${c.errors ? `, ${c.errors} errors` : ""})`
  );
}

function refs(list: FrameworkRef[], framework: FrameworkRef["name"]): string {
  return list.filter((r) => r.name === framework).map((r) => r.reference).join(", ") || "-";
}

function resultLabel(c: ControlResult): string {
  if (c.status === "fail" || c.status === "error") return `${STATUS[c.status]} (${c.enforcementLevel})`;
  return STATUS[c.status];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function evidenceSummary(c: ControlResult): string {
  if (c.status === "not-applicable") return c.reason ?? "";
  if (c.status === "error") return c.reason ?? "";
  const failed = c.evidence.filter((e) => !e.ok).length;
  const excepted = c.evidence.filter((e) => e.exception).length;
  const resources = new Set(c.evidence.map((e) => e.urn)).size;
  return `${plural(c.evidence.length, "check")} on ${plural(resources, "resource")}${failed ? `, ${failed} failed` : ""}${excepted ? `, ${excepted} by accepted exception` : ""}`;
}

function evidenceTable(rows: Evidence[]): string[] {
  const out = ["| Resource | Property | Value | Result |", "|---|---|---|---|"];
  for (const e of rows) {
    const result = !e.ok ? `**fails**: ${cell(e.requirement ?? "")}` : e.exception ? `holds by accepted exception: ${cell(e.exception)}` : "holds";
    out.push(`| ${cell(e.resource)} | \`${cell(e.property)}\` | \`${cell(e.value)}\` | ${result} |`);
  }
  return out;
}

export function renderMarkdown(a: AuditResult): string {
  const s = a.summary;
  const lines: string[] = [
    `# Compliance audit: stack \`${a.stack}\` (${a.tier})`,
    "",
    `Policy pack \`${a.pack.name}@${a.pack.version}\`, evaluated on the offline plan of \`${a.project}/${a.stack}\` (${a.resources} resources, the same plan \`npm run plan -- ${a.stack}\` records).`,
    `Enforcement in this stack: **${a.controls[0]?.enforcementLevel ?? "mandatory"}** (mandatory in prod and rct, advisory in dev).`,
    "",
    `**${s.passed} passed, ${s.failed} failed, ${s.notApplicable} not applicable, ${s.errors} errors** out of ${s.total} controls` +
      (s.mandatoryFailures > 0 ? ` — ${s.mandatoryFailures} mandatory control(s) fail: the deployment is blocked.` : s.advisoryFailures > 0 ? ` — ${s.advisoryFailures} advisory finding(s), not blocking.` : "."),
    "",
    "How to read this report: each control checks PCI-DSS v4.0.1 / GDPR requirements, and the SOC 2 Trust Services Criteria they support, on what the stack would deploy.",
    "PASS means every in-scope resource met it (the evidence lists what was checked and the value found);",
    "FAIL lists every resource, property and value that does not, and the requirement; N/A says why nothing was in scope.",
    "Secret values are never shown: they appear as `[secret]` (a Pulumi secret) or `[redacted, N characters]`.",
    "Offline, Helm charts are judged on their values; the objects they render (operators', Traefik's and the monitoring",
    "stack's pods) are judged by the same controls when the pack runs with the Pulumi CLI (docs/compliance.md).",
    "",
    "## Frameworks",
    "",
    "A requirement is met when no control citing it fails; not assessed when every control citing it is not applicable to this stack.",
    "",
    "| Framework | Requirements met | Not met | Not assessed here | Controls (passed / failed / N/A) |",
    "|---|---|---|---|---|",
    ...frameworkSummary(a).map(
      (f) =>
        `| ${cell(f.title)} | ${f.met} / ${f.requirements} | ${cell(f.notMet.join(", ") || "-")} | ${cell(f.notAssessed.join(", ") || "-")} | ` +
        `${f.controls.total} (${f.controls.passed} / ${f.controls.failed} / ${f.controls.notApplicable}) |`,
    ),
    "",
    "## Summary",
    "",
    "| Control | Severity | Enforcement | Result | PCI-DSS v4.0.1 | GDPR | SOC 2 | Evidence |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const c of a.controls)
    lines.push(
      `| [${c.name}](#${c.name}) | ${c.severity} | ${c.enforcementLevel} | ${resultLabel(c)} | ${refs(c.references, "PCI-DSS")} | ${cell(refs(c.references, "GDPR"))} | ${refs(c.references, "SOC 2")} | ${cell(evidenceSummary(c))} |`,
    );
  lines.push("", "## Controls", "");
  for (const c of a.controls) {
    lines.push(`### ${c.name}`, "", `**${resultLabel(c)}** · severity ${c.severity} · enforcement ${c.enforcementLevel}`, "", c.description, "");
    lines.push("Requirements:", "");
    for (const r of c.references) lines.push(`- ${refLabel(r)}: ${r.specification}`);
    lines.push("");
    if (c.status === "not-applicable") lines.push(`Not applicable: ${c.reason}.`, "");
    if (c.status === "error") lines.push(`The control could not be evaluated: ${c.reason}`, "");
    const failed = c.evidence.filter((e) => !e.ok);
    if (c.status === "fail") {
      lines.push(`Remediation: ${c.remediation}`, "", "Failures:", "");
      if (failed.length > 0) lines.push(...evidenceTable(failed), "");
      else for (const v of c.violations) lines.push(`- ${v.message}`);
      lines.push("");
    }
    const excepted = c.evidence.filter((e) => e.exception);
    if (excepted.length > 0) lines.push("Accepted exceptions (policy/exceptions.ts):", "", ...evidenceTable(excepted), "");
    const held = c.evidence.filter((e) => e.ok && !e.exception);
    if (held.length > 0) {
      lines.push(`Evidence (${held.length} checks hold${held.length > EVIDENCE_ROWS ? `; the first ${EVIDENCE_ROWS} here, all in audit.json` : ""}):`, "");
      lines.push(...evidenceTable(held.slice(0, EVIDENCE_ROWS)), "");
    }
  }
  return `${lines.join("\n")}\n`;
}

/** What `text` (the file `file`) carries that is shaped like a credential or a secret placeholder: never the value. */
function reportLeaks(file: string, text: string): Leak[] {
  const kinds = new Set([...TOKEN_SHAPES.filter((t) => t.pattern.test(text)).map((t) => t.name), ...credentialKinds(text)]);
  return [...kinds].map((what) => ({ path: file, what }));
}

/** Throws a {@link SecretLeakError} when `text` still carries something shaped like a credential: the report must not leak. */
export function assertNoSecrets(text: string, file = "audit report"): void {
  const leaks = reportLeaks(file, text);
  if (leaks.length > 0) throw new SecretLeakError(leaks);
}

/**
 * Writes audit.md and audit.json under `dir`, both or neither: both are rendered and checked first,
 * then written together (a failure part-way is undone, see `commitArtefacts`).
 */
export function writeAuditArtefacts(a: AuditResult, dir: string): string[] {
  const md = renderMarkdown(a);
  const json = `${JSON.stringify({ ...a, frameworks: frameworkSummary(a) }, null, 2)}\n`;
  const leaks = [...reportLeaks("audit.md", md), ...reportLeaks("audit.json", json)];
  if (leaks.length > 0) throw new SecretLeakError(leaks);
  return commitArtefacts(dir, [
    { path: "audit.md", content: md },
    { path: "audit.json", content: json },
  ]);
}

/** A few lines for a terminal: the counts, then every failing control with its violations. */
export function formatFindings(a: AuditResult, maxPerControl = 10): string {
  const s = a.summary;
  const out = [`Policy pack ${a.pack.name}@${a.pack.version} on ${a.stack}: ${s.passed} passed, ${s.failed} failed (${s.mandatoryFailures} mandatory), ${s.notApplicable} not applicable, ${s.errors} errors`];
  for (const f of frameworkSummary(a)) out.push(`  ${frameworkLine(f)}`);
  for (const c of a.controls) {
    if (c.status !== "fail" && c.status !== "error") continue;
    out.push(`  ${c.enforcementLevel === "mandatory" ? "✖" : "!"} ${c.name} [${c.enforcementLevel}, ${c.severity}]${c.status === "error" ? `: error: ${c.reason}` : ""}`);
    for (const v of c.violations.slice(0, maxPerControl)) out.push(`      ${v.message}`);
    if (c.violations.length > maxPerControl) out.push(`      ... ${c.violations.length - maxPerControl} more (npm run audit -- ${a.stack})`);
  }
  return out.join("\n");
}
