/**
 * `npm run plan` as a user runs it: its exit code, its output and what it leaves on disk. The plan of
 * dev runs as a child process, the way npm starts it; the refusals run the command's `main` in this
 * process, settled as the process settles it (test/cli/run-command.ts; the process boundary of a
 * refusal is proven in test/cli/commands.test.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../infra/plan/cli";
import { ROOT } from "../../infra/plan/run";
import { inProcess, spawned } from "../cli/run-command";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cli-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A scratch folder holding a copy of Pulumi.dev.yaml changed by `edit`. */
function configDir(name: string, edit: (text: string) => string): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), edit(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")));
  return dir;
}

const cli = (...args: string[]) => inProcess(main, ...args);

describe("npm run plan", () => {
  // A child process loads the whole SDK: on a busy CI machine that takes far longer than a unit test.
  it("plans dev and writes plan.json, the manifests and the graph", { timeout: 120_000 }, async () => {
    const out = path.join(scratch, "dev");
    const run = await spawned("infra/plan/cli.ts", "dev", "--out", out);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/diaspomoney-platform\/dev: \d+ resources \(\d+ custom, \d+ components\) of \d+ types, \d+ protected, planned in \d+ ms\n$/);
    expect(run.stdout).toMatch(/[├└]─ kubernetes:core\/v1:Namespace  diaspomoney-dev \(diaspomoney-dev\)/);
    const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
    expect(Object.keys(plan)).toEqual(["project", "stack", "resources", "outputs"]);
    expect(Object.keys(plan.resources[0])).toEqual(["urn", "type", "name", "custom", "parent", "provider", "dependsOn", "protect", "retainOnDelete", "inputs"]);
    expect(fs.readFileSync(path.join(out, "graph.mmd"), "utf8")).toContain("flowchart LR");
    const manifests = fs.readdirSync(path.join(out, "manifests")).sort();
    expect(manifests).toEqual(expect.arrayContaining(["cluster.yaml", "diaspomoney-dev.yaml", "diaspomoney-dev-infra.yaml"]));
    for (const f of manifests) expect(() => YAML.parseAllDocuments(fs.readFileSync(path.join(out, "manifests", f), "utf8"))).not.toThrow();
  });

  it("rejects an unknown stack with the list of stacks, exit 2, and writes nothing", async () => {
    const out = path.join(scratch, "nope");
    const run = await cli("nope", "--out", out);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('Unknown stack "nope": this project defines the stacks "cluster-nonprod", "cluster-prod", "cluster-local", "dev", "rct", "prod", "local" (one file each in stacks/).');
    expect(run.stdout).toBe("");
    expect(fs.existsSync(out)).toBe(false);
  });

  it("rejects a bad config with every problem named, exit 2, and writes nothing", async () => {
    const dir = configDir("bad-config", (t) => t.replace("    context: eu-par-nonprod\n", "").replace("  diaspomoney-platform:app:", "  diaspomoney-platform:colour: blue\n  diaspomoney-platform:app:"));
    const out = path.join(scratch, "bad-config-out");
    const run = await cli("dev", "--out", out, "--config-dir", dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Invalid configuration for stack "dev" (2 problems); nothing was created:');
    expect(run.stderr).toContain("Pulumi.dev.yaml diaspomoney-platform:kubernetes.context = (not set)");
    expect(run.stderr).toContain("Pulumi.dev.yaml diaspomoney-platform:colour = \"blue\": expected no such key");
    expect(fs.existsSync(out)).toBe(false);
  });

  it("rejects a config file that is not YAML, exit 2, and writes nothing", async () => {
    const dir = configDir("broken-yaml", (t) => `${t}\n  bad: [unclosed\n`);
    const out = path.join(scratch, "broken-yaml-out");
    const run = await cli("dev", "--out", out, "--config-dir", dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Invalid configuration for stack "dev" \(1 problem\); nothing was created:\n {2}- Pulumi\.dev\.yaml \(file\) = \(unreadable\): expected valid YAML: /);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("rejects a missing stack config file, exit 2", async () => {
    const dir = path.join(scratch, "empty");
    fs.mkdirSync(dir);
    const run = await cli("dev", "--out", path.join(scratch, "empty-out"), "--config-dir", dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Pulumi.dev.yaml (file) = (missing): expected a Pulumi.dev.yaml next to Pulumi.yaml");
  });

  it("explains its usage on a missing stack or an unknown option, exit 2", async () => {
    const none = await cli();
    const option = await cli("dev", "--outdir", "x");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^missing stack name\nusage: npm run plan -- <stack> \[--out DIR\]/);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option "--outdir"');
  });

  it("diffs two plan files as Markdown, exit 0, and rejects a file that is not a plan", async () => {
    const base = { project: "p", stack: "s", outputs: {}, resources: [{ urn: "urn:a", type: "kubernetes:apps/v1:Deployment", name: "web", custom: true, parent: null, provider: null, dependsOn: [], protect: false, retainOnDelete: false, inputs: { metadata: { name: "web", namespace: "ns" }, spec: { replicas: 2 } } }] };
    const head = structuredClone(base);
    head.resources[0].inputs.spec.replicas = 3;
    const [a, b, junk] = ["base.json", "head.json", "junk.json"].map((f) => path.join(scratch, f));
    fs.writeFileSync(a, JSON.stringify(base));
    fs.writeFileSync(b, JSON.stringify(head));
    fs.writeFileSync(junk, "{}");
    const diff = await cli("diff", a, b);
    const bad = await cli("diff", a, junk);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain("- `kubernetes:apps/v1:Deployment` **web** (`ns/web`)\n  - `spec.replicas`: `2` → `3`");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${junk} is not a plan.json`);
  });
});
