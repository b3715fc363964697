/**
 * Every command's command line, read by its own parser: what each accepts, and the one-line
 * UsageError (exit 2) for each mistake. Plain function calls; commands.test.ts spawns the processes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAdoptArgs } from "../../infra/adopt/cli";
import { describeFailure, exitCodeOf, UsageError } from "../../infra/cli";
import { parseAuditArgs } from "../../infra/compliance/cli";
import { ConfigError } from "../../infra/config/load";
import { parseSmokeArgs } from "../../infra/delivery/smoke";
import { parseBenchArgs } from "../../infra/plan/bench";
import { checkedOutFolder, parsePlanArgs, planCommand } from "../../infra/plan/cli";
import { UnknownStackError } from "../../stacks";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cli-arguments-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const aFile = path.join(scratch, "a-file");
fs.writeFileSync(aFile, "x");

/** The error `fn` throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

/** A UsageError whose first line is `first`, followed by the command's usage. */
function expectUsage(err: Error, first: string | RegExp, command: string): void {
  expect(err).toBeInstanceOf(UsageError);
  const [line, ...rest] = err.message.split("\n");
  if (typeof first === "string") expect(line).toBe(first);
  else expect(line).toMatch(first);
  expect(rest[0]).toMatch(new RegExp(`^usage: npm run ${command} -- `));
  expect(exitCodeOf(err)).toBe(2);
}

describe("the contract every command shares", () => {
  it("exits 2 with the message alone for the user's mistakes, whatever module threw them", () => {
    for (const err of [new UsageError("x"), new UnknownStackError("nope"), new ConfigError("dev", [])]) {
      expect(exitCodeOf(err)).toBe(2);
      expect(describeFailure(err)).toBe(err.message);
    }
  });

  it("exits 1 with the stack trace for anything else: a bug to report", () => {
    const bug = new TypeError("cannot read properties of undefined");
    expect(exitCodeOf(bug)).toBe(1);
    expect(describeFailure(bug)).toBe(bug.stack);
    expect(exitCodeOf("a string")).toBe(1);
    expect(describeFailure("a string")).toBe("a string");
  });
});

describe("npm run plan", () => {
  it("reads a stack, --out and --config-dir in both forms", () => {
    expect(parsePlanArgs(["dev", "--out", "x"])).toEqual({ stack: "dev", out: path.resolve("x"), configDir: undefined });
    expect(parsePlanArgs(["--out=x", "prod"])).toEqual({ stack: "prod", out: path.resolve("x"), configDir: undefined });
  });

  it.each([
    [[], "missing stack name"],
    [["dev", "extra"], 'unexpected argument "extra"'],
    [["dev", "--outdir", "x"], 'unknown option "--outdir"'],
    [["dev", "--out"], "--out needs a value"],
    [["dev", "--out", "--config-dir", "x"], "--out needs a value"],
  ])("refuses %j", (argv, first) => {
    expectUsage(thrown(() => parsePlanArgs(argv)), first, "plan");
  });

  it("keeps an empty --out empty, for the folder check to refuse", () => {
    expect(parsePlanArgs(["dev", "--out="]).out).toBe("");
  });

  it.each([
    ["", '--out "" is empty: give a folder'],
    [aFile, `--out ${JSON.stringify(aFile)} is a file, not a folder`],
    ["/proc/1/plan", '--out "/proc/1/plan" is under /proc, a kernel file system'],
  ])("refuses --out %j before planning", async (out, first) => {
    expectUsage(thrown(() => checkedOutFolder(out)), first, "plan");
    // planCommand checks it before it loads the SDK: the rejection comes at once.
    await expect(planCommand({ stack: "dev", out })).rejects.toThrow(first);
  });

  it("accepts a folder to be created", () => {
    expect(checkedOutFolder(path.join(scratch, "new", "plan"))).toBe(path.join(scratch, "new", "plan"));
  });
});

describe("npm run audit", () => {
  it("reads a stack and --out, with out/<stack> by default", () => {
    expect(parseAuditArgs(["dev"])).toEqual({ stack: "dev", out: path.resolve(__dirname, "..", "..", "out", "dev") });
    expect(parseAuditArgs(["prod", "--out", path.join(scratch, "audit")])).toEqual({ stack: "prod", out: path.join(scratch, "audit") });
  });

  it.each([
    [[], "missing stack name"],
    [["dev", "extra"], 'unexpected argument "extra"'],
    [["dev", "--bogus"], 'unknown option "--bogus"'],
    [["dev", "--out"], "--out needs a value"],
    [["dev", "--out="], '--out "" is empty: give a folder'],
    [["dev", "--out", aFile], `--out ${JSON.stringify(aFile)} is a file, not a folder`],
    [["dev", "--out", "/sys/audit"], '--out "/sys/audit" is under /sys, a kernel file system'],
  ])("refuses %j", (argv, first) => {
    expectUsage(thrown(() => parseAuditArgs(argv)), first, "audit");
  });

  it("refuses an unknown stack before planning", () => {
    expect(thrown(() => parseAuditArgs(["nope"]))).toBeInstanceOf(UnknownStackError);
  });
});

describe("npm run bench", () => {
  it("reads --runs and stacks, with dev, rct and prod by default", () => {
    expect(parseBenchArgs([])).toEqual({ runs: 5, stacks: ["dev", "rct", "prod"] });
    expect(parseBenchArgs(["--runs", "2", "prod", "--runs=3", "dev"])).toEqual({ runs: 3, stacks: ["prod", "dev"] });
  });

  it.each([
    [["--runs"], "--runs takes a whole number from 1 to 50"],
    [["--runs", "0"], '--runs takes a whole number from 1 to 50, not "0"'],
    [["--runs=1.5"], '--runs takes a whole number from 1 to 50, not "1.5"'],
    [["--runs", "51"], '--runs takes a whole number from 1 to 50, not "51"'],
    [["--bogus"], 'unknown option "--bogus"'],
    [["dev", "dev"], 'stack "dev" is given twice'],
  ])("refuses %j", (argv, first) => {
    expectUsage(thrown(() => parseBenchArgs(argv)), first, "bench");
  });

  it("refuses an unknown stack instead of starting a child that fails", () => {
    expect(thrown(() => parseBenchArgs(["staging"]))).toBeInstanceOf(UnknownStackError);
  });
});

describe("npm run adopt", () => {
  it("reads a stack and its files", () => {
    expect(parseAdoptArgs(["dev", "--out", path.join(scratch, "import.json"), "--plan=p.json"])).toEqual({
      stack: "dev",
      out: path.join(scratch, "import.json"),
      plan: path.resolve("p.json"),
    });
  });

  it.each([
    [[], "missing stack name"],
    [["dev", "extra"], 'unexpected argument "extra"'],
    [["dev", "--bogus"], 'unknown option "--bogus"'],
    [["dev", "--plan"], "--plan needs a value"],
    [["dev", "--plan="], "--plan needs a value"],
    [["dev", "--plan", "a", "--plan", "b"], "--plan is given twice"],
    [["dev", "--out", scratch], `--out ${JSON.stringify(scratch)} is a folder, not a file`],
    [["dev", "--out", path.join(aFile, "import.json")], `--out ${JSON.stringify(path.join(aFile, "import.json"))} is in a folder that is a file, not a folder`],
    [["dev", "--out", "/proc/import.json"], '--out "/proc/import.json" is in a folder that is under /proc, a kernel file system'],
  ])("refuses %j", (argv, first) => {
    expectUsage(thrown(() => parseAdoptArgs(argv)), first, "adopt");
  });
});

describe("npm run smoke", () => {
  it.each([
    ["https://deploy:hunter2@app.diaspomoney.fr", "the URL looks like a URL with a user and password: give the bare URL of the app"],
    ["https://deploy@app.diaspomoney.fr", "the URL holds a user name: give the bare URL of the app"],
  ])("refuses a URL with credentials without echoing them: %s", (url, first) => {
    const err = thrown(() => parseSmokeArgs([url]));
    expectUsage(err, first, "smoke");
    expect(err.message).not.toContain("hunter2");
  });
});
