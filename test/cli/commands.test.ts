/**
 * The contract on bad input (docs/commands.md): every command answers a mistake with exit 2, the
 * message and the usage on stderr, no stack trace, nothing on stdout, nothing written. The parsers
 * themselves are tested in arguments.test.ts. The first block spawns each real command, as npm runs
 * it, to prove the promise at the process boundary (exit code, streams, answering before the SDK
 * loads); the others run the same `main` in this process, settled as the process
 * settles it (run-command.ts), which is all that differs between the cases.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main as adoptMain } from "../../infra/adopt/cli";
import { main as auditMain } from "../../infra/compliance/cli";
import { main as smokeMain } from "../../infra/delivery/smoke";
import { main as benchMain } from "../../infra/plan/bench";
import { main as planMain } from "../../infra/plan/cli";
import { INDEX_FILE } from "../../infra/plan/out-folder";
import { inProcess, scriptFor, spawned, type CommandRun as Run } from "./run-command";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cli-commands-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const plan = (...args: string[]) => inProcess(planMain, ...args);
const COMMANDS = {
  "infra/compliance/cli.ts": auditMain,
  "infra/adopt/cli.ts": adoptMain,
  "infra/delivery/smoke.ts": smokeMain,
  "infra/plan/bench.ts": benchMain,
  "infra/plan/cli.ts": planMain,
} as const;
/** Runs `calls` one after the other: an in-process run holds the worker's console for itself. */
async function inTurn(calls: (() => Promise<Run>)[]): Promise<Run[]> {
  const runs: Run[] = [];
  for (const call of calls) runs.push(await call());
  return runs;
}
/** The command of `file`, in this process. */
const run = (file: keyof typeof COMMANDS, ...args: string[]) => inProcess(COMMANDS[file], ...args);

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

// A child process loads tsx's loader and the command: on a busy CI machine that takes far longer than a unit test.
describe.concurrent("every command, spawned as npm runs it", { timeout: 120_000 }, () => {
  it("refuses a mistake with exit 2 from the process: the message and the usage on stderr, nothing on stdout", async () => {
    const [planned, audit, adopt, smoke, bench] = await Promise.all([
      spawned("infra/plan/cli.ts", "dev", "extra"),
      spawned("infra/compliance/cli.ts", "dev", "extra"),
      spawned("infra/adopt/cli.ts", "dev", "extra"),
      spawned("infra/delivery/smoke.ts", "https://app.diaspomoney.fr", "--retries", "3"),
      spawned("infra/plan/bench.ts", "--bogus"),
    ]);
    expectRefusal(planned, 'unexpected argument "extra"', "plan");
    expectRefusal(audit, 'unexpected argument "extra"', "audit");
    expectRefusal(adopt, 'unexpected argument "extra"', "adopt");
    expectRefusal(smoke, "unknown option --retries", "smoke");
    expectRefusal(bench, 'unknown option "--bogus"', "bench");
  });

  it("spawns each command as its npm script runs it", async () => {
    const pkg = (await import("../../package.json")).default as { scripts: Record<string, string> };
    for (const file of Object.keys(COMMANDS)) expect(Object.values(pkg.scripts), file).toContain(scriptFor(file));
    expect(scriptFor("x.ts")).toBe("node --import tsx x.ts");
  });

  it("answers --help with the usage on stdout and exit 0 from the process", async () => {
    const r = await spawned("infra/plan/cli.ts", "--help");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^usage: npm run plan -- /);
  });
});

describe("every command on bad input", () => {
  it("plan: an extra argument, an unknown option, a bad --out", async () => {
    const file = path.join(scratch, "a-file");
    fs.writeFileSync(file, "x");
    const extra = await plan("dev", "extra");
    const option = await plan("dev", "--bogus");
    const empty = await plan("dev", "--out=");
    const aFile = await plan("dev", "--out", file);
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
    const shape = await plan("diff", base, head);
    const missing = await plan("diff", base);
    const option = await plan("diff", base, head, "--json");
    expectRefusal(shape, `${head} is not a plan.json: resources[0].inputs is missing, expected an object`);
    expectRefusal(missing, "diff takes two plan.json files: the base, then the head", "plan");
    expectRefusal(option, 'unknown option "--json" for diff', "plan");
  });

  it("audit: an extra argument, an unknown option, --out without a value", async () => {
    const [extra, option, out] = await inTurn([
      () => run("infra/compliance/cli.ts", "dev", "extra"),
      () => run("infra/compliance/cli.ts", "dev", "--bogus"),
      () => run("infra/compliance/cli.ts", "dev", "--out"),
    ]);
    expectRefusal(extra, 'unexpected argument "extra"', "audit");
    expectRefusal(option, 'unknown option "--bogus"', "audit");
    expectRefusal(out, "--out needs a value", "audit");
  });

  it("adopt: an extra argument, a plan that is not one", async () => {
    const notJson = path.join(scratch, "not-json.json");
    fs.writeFileSync(notJson, "stack: dev\n");
    const [extra, bad] = await inTurn([() => run("infra/adopt/cli.ts", "dev", "extra"), () => run("infra/adopt/cli.ts", "dev", "--plan", notJson)]);
    expectRefusal(extra, 'unexpected argument "extra"', "adopt");
    expectRefusal(bad, `${notJson} is not a plan.json: not JSON (write one with \`npm run plan -- <stack> --out DIR\`)`);
  });

  it("smoke and bench: an unknown option, an extra argument", async () => {
    const [smokeOption, smokeExtra, benchOption, benchStack] = await inTurn([
      () => run("infra/delivery/smoke.ts", "https://app.diaspomoney.fr", "--retries", "3"),
      () => run("infra/delivery/smoke.ts", "https://app.diaspomoney.fr", "https://rct.diaspomoney.fr"),
      () => run("infra/plan/bench.ts", "--bogus"),
      () => run("infra/plan/bench.ts", "staging"),
    ]);
    expectRefusal(smokeOption, "unknown option --retries", "smoke");
    expectRefusal(smokeExtra, 'unexpected argument "https://rct.diaspomoney.fr"', "smoke");
    expectRefusal(benchOption, 'unknown option "--bogus"', "bench");
    expectRefusal(benchStack, /^Unknown stack "staging": this project defines the stacks /);
  });

  it("--help is not a mistake: the usage on stdout, exit 0", async () => {
    const runs = await inTurn([
      () => plan("--help"),
      () => run("infra/compliance/cli.ts", "--help"),
      () => run("infra/adopt/cli.ts", "--help"),
      () => run("infra/delivery/smoke.ts", "--help"),
      () => run("infra/plan/bench.ts", "--help"),
    ]);
    for (const [r, command] of runs.map((r, i) => [r, ["plan", "audit", "adopt", "smoke", "bench"][i]] as const)) {
      expect(r.code, command).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${command} -- `));
    }
  });
});

describe("npm run plan into an existing folder", () => {
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
