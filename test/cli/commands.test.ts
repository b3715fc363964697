/**
 * The contract on bad input, at the process boundary where it is promised (docs/commands.md): every
 * command answers a mistake with exit 2, the message and the usage on stderr, no stack trace, nothing
 * on stdout, nothing written. The parsers themselves are tested in arguments.test.ts; these spawn the
 * real commands, concurrently, and all but two answer before the SDK loads.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { INDEX_FILE } from "../../infra/plan/out-folder";

const ROOT = path.resolve(__dirname, "..", "..");
const TSX = require.resolve("tsx/cli");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cli-commands-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run <script> -- ...args`, as the script runs it (tsx on the file), without npm's own output. */
function run(file: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, file, ...args], { cwd: ROOT, timeout: 100_000, env: { ...process.env, FORCE_COLOR: "0" } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

const plan = (...args: string[]) => run("infra/plan/cli.ts", ...args);

/** A refusal as the contract has it: exit 2, `first` then (with `usage`) the usage, no stack trace, nothing on stdout. */
function expectRefusal(r: Run, first: string | RegExp, usage?: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const [line, next] = r.stderr.split("\n");
  if (typeof first === "string") expect(line).toBe(first);
  else expect(line).toMatch(first);
  if (usage) expect(next).toMatch(new RegExp(`^usage: npm run ${usage} -- `));
  else expect(next).toBe("");
}

function tree(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => !e.isDirectory())
      .map((e) => {
        const file = path.join(e.parentPath, e.name);
        return [path.relative(dir, file), fs.readFileSync(file, "utf8")];
      }),
  );
}

describe.concurrent("every command on bad input", { timeout: 120_000 }, () => {
  it("plan: an extra argument, an unknown option, a bad --out", async () => {
    const file = path.join(scratch, "a-file");
    fs.writeFileSync(file, "x");
    const [extra, option, empty, aFile] = await Promise.all([plan("dev", "extra"), plan("dev", "--bogus"), plan("dev", "--out="), plan("dev", "--out", file)]);
    expectRefusal(extra, 'unexpected argument "extra"', "plan");
    expectRefusal(option, 'unknown option "--bogus"', "plan");
    expectRefusal(empty, '--out "" is empty: give a folder', "plan");
    expectRefusal(aFile, `--out ${JSON.stringify(file)} is a file, not a folder`, "plan");
  });

  it("plan: --out under /proc is refused at once, where it used to spin forever", async () => {
    const started = Date.now();
    expectRefusal(await plan("dev", "--out", "/proc/plan"), '--out "/proc/plan" is under /proc, a kernel file system', "plan");
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("plan -- diff: a plan file of the wrong shape", async () => {
    const base = path.join(scratch, "base.json");
    const head = path.join(scratch, "head.json");
    const resource = { urn: "urn:a", type: "t", name: "a", custom: true, parent: null, provider: null, dependsOn: [], protect: false, retainOnDelete: false, inputs: {} };
    fs.writeFileSync(base, JSON.stringify({ project: "p", stack: "s", resources: [resource], outputs: {} }));
    fs.writeFileSync(head, JSON.stringify({ project: "p", stack: "s", resources: [{ ...resource, inputs: undefined }], outputs: {} }));
    const [shape, missing, option] = await Promise.all([plan("diff", base, head), plan("diff", base), plan("diff", base, head, "--json")]);
    expectRefusal(shape, `${head} is not a plan.json: resources[0].inputs is missing, expected an object`);
    expectRefusal(missing, "diff takes two plan.json files: the base, then the head", "plan");
    expectRefusal(option, 'unknown option "--json" for diff', "plan");
  });

  it("audit: an extra argument, an unknown option, --out without a value", async () => {
    const [extra, option, out] = await Promise.all([
      run("infra/compliance/cli.ts", "dev", "extra"),
      run("infra/compliance/cli.ts", "dev", "--bogus"),
      run("infra/compliance/cli.ts", "dev", "--out"),
    ]);
    expectRefusal(extra, 'unexpected argument "extra"', "audit");
    expectRefusal(option, 'unknown option "--bogus"', "audit");
    expectRefusal(out, "--out needs a value", "audit");
  });

  it("adopt: an extra argument, a plan that is not one", async () => {
    const notJson = path.join(scratch, "not-json.json");
    fs.writeFileSync(notJson, "stack: dev\n");
    const [extra, bad] = await Promise.all([run("infra/adopt/cli.ts", "dev", "extra"), run("infra/adopt/cli.ts", "dev", "--plan", notJson)]);
    expectRefusal(extra, 'unexpected argument "extra"', "adopt");
    expectRefusal(bad, `${notJson} is not a plan.json: not JSON (write one with \`npm run plan -- <stack> --out DIR\`)`);
  });

  it("smoke and bench: an unknown option, an extra argument", async () => {
    const [smokeOption, smokeExtra, benchOption, benchStack] = await Promise.all([
      run("infra/delivery/smoke.ts", "https://app.diaspomoney.fr", "--retries", "3"),
      run("infra/delivery/smoke.ts", "https://app.diaspomoney.fr", "https://rct.diaspomoney.fr"),
      run("infra/plan/bench.ts", "--bogus"),
      run("infra/plan/bench.ts", "staging"),
    ]);
    expectRefusal(smokeOption, "unknown option --retries", "smoke");
    expectRefusal(smokeExtra, 'unexpected argument "https://rct.diaspomoney.fr"', "smoke");
    expectRefusal(benchOption, 'unknown option "--bogus"', "bench");
    expectRefusal(benchStack, /^Unknown stack "staging": this project defines the stacks /);
  });

  it("--help is not a mistake: the usage on stdout, exit 0", async () => {
    const runs = await Promise.all([
      plan("--help"),
      run("infra/compliance/cli.ts", "--help"),
      run("infra/adopt/cli.ts", "--help"),
      run("infra/delivery/smoke.ts", "--help"),
      run("infra/plan/bench.ts", "--help"),
    ]);
    for (const [r, command] of runs.map((r, i) => [r, ["plan", "audit", "adopt", "smoke", "bench"][i]] as const)) {
      expect(r.code, command).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${command} -- `));
    }
  });
});

describe.concurrent("npm run plan into an existing folder", { timeout: 180_000 }, () => {
  it("replaces its own files, removes the stale one it listed, keeps everyone else's", async () => {
    const out = path.join(scratch, "existing");
    fs.mkdirSync(path.join(out, "manifests"), { recursive: true });
    fs.writeFileSync(path.join(out, "manifests", "mine.yaml"), "kind: Mine\n");
    fs.writeFileSync(path.join(out, "manifests", "gone.yaml"), "kind: Gone\n");
    fs.writeFileSync(path.join(out, "audit.md"), "# audit\n");
    fs.writeFileSync(path.join(out, INDEX_FILE), JSON.stringify({ files: ["manifests/gone.yaml"] }));
    const r = await plan("cluster-nonprod", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const files = Object.keys(tree(out)).sort();
    expect(files).toEqual(expect.arrayContaining(["audit.md", "plan.json", "graph.mmd", INDEX_FILE, path.join("manifests", "mine.yaml"), path.join("manifests", "cluster.yaml")]));
    expect(files).not.toContain(path.join("manifests", "gone.yaml"));
    expect(files.filter((f) => f.includes(".plan-tmp-"))).toEqual([]);
  });

  it("fails to write in one line, exit 2, and leaves the folder exactly as it was", async () => {
    const out = path.join(scratch, "blocked");
    fs.mkdirSync(path.join(out, "manifests"), { recursive: true });
    fs.writeFileSync(path.join(out, "plan.json"), "the previous plan\n");
    fs.writeFileSync(path.join(out, "manifests", "mine.yaml"), "kind: Mine\n");
    // A folder where the plan writes graph.mmd: found once plan.json and the manifests are in place.
    fs.mkdirSync(path.join(out, "graph.mmd"));
    const before = tree(out);
    const r = await plan("cluster-nonprod", "--out", out);
    expectRefusal(r, `Cannot write to ${out}: graph.mmd is a folder, where the plan writes a file; nothing was written.`);
    expect(tree(out)).toEqual(before);
    expect(fs.readdirSync(out).sort()).toEqual(["graph.mmd", "manifests", "plan.json"]);
    expect(fs.readdirSync(path.join(out, "manifests"))).toEqual(["mine.yaml"]);
  });
});
