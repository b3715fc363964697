/**
 * Prometheus's own rule checker and evaluator (`promtool`, Debian's `prometheus` package, 2.42), for
 * what a grammar cannot say: that an expression type-checks (`rate` of an instant vector), and what
 * the rules do with series over time (`promtool test rules`). Tests that need it skip where it is not
 * installed, except in CI (`CI=true`), where a missing promtool is a failure: CI must install it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { RuleGroup } from "../../components/alerts";

function find(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const PROMTOOL = find();
/** Skip the promtool tests (locally, without promtool); never in CI. */
export const skipWithoutPromtool = !PROMTOOL && process.env.CI !== "true";

export interface PromtoolResult {
  ok: boolean;
  output: string;
}

function run(args: string[], files: Record<string, string>): PromtoolResult {
  if (!PROMTOOL) throw new Error("promtool is not installed (apt-get install prometheus): CI must provide it");
  const dir = mkdtempSync(join(tmpdir(), "promtool-"));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const r = spawnSync(PROMTOOL, args, { cwd: dir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
    return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `promtool check rules` on the groups, as a rule file. */
export function checkRules(groups: RuleGroup[]): PromtoolResult {
  return run(["check", "rules", "rules.yml"], { "rules.yml": stringify({ groups }) });
}

/** One `tests:` entry of a promtool rule test file. */
export interface RuleTest {
  name?: string;
  interval: string;
  input_series: { series: string; values: string }[];
  alert_rule_test?: {
    eval_time: string;
    alertname: string;
    exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[];
  }[];
  promql_expr_test?: { expr: string; eval_time: string; exp_samples: { labels: string; value: number }[] }[];
}

/**
 * `promtool test rules`: the groups evaluated against synthetic series, all of them every
 * `evaluationInterval` (promtool ignores a group's own interval), in the order given: without
 * `group_eval_order` promtool's order varies from run to run, and an alert would read recordings one
 * evaluation old in some runs only.
 */
export function testRules(groups: RuleGroup[], tests: RuleTest[], evaluationInterval: string): PromtoolResult {
  const testFile = { rule_files: ["rules.yml"], evaluation_interval: evaluationInterval, group_eval_order: groups.map((g) => g.name), tests };
  return run(["test", "rules", "test.yml"], { "rules.yml": stringify({ groups }), "test.yml": stringify(testFile, { lineWidth: 0 }) });
}
