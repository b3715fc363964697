/**
 * The output folder of `npm run plan`: what `--out` accepts before the plan runs, and how the artefacts
 * land (all at once, only files of an earlier run removed, nothing left behind on failure). Plain
 * functions on scratch folders: no plan, no child process.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commitArtefacts, INDEX_FILE, OutputError, outFileProblem, outFolderProblem, readIndex, type Artefact } from "../../infra/plan/out-folder";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "out-folder-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let n = 0;
/** A fresh path under the scratch folder, not yet created. */
const fresh = (name = "out") => path.join(scratch, `${++n}-${name}`);

/** Every file under `dir`, relative, `/`-separated, sorted; hidden ones included. */
function tree(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
}

const artefacts = (files: Record<string, string>): Artefact[] => Object.entries(files).map(([p, content]) => ({ path: p, content }));
const PLAN = { "plan.json": "{}\n", "graph.mmd": "flowchart LR\n", [path.join("manifests", "a.yaml")]: "kind: A\n", [path.join("manifests", "b.yaml")]: "kind: B\n" };
const isRoot = process.getuid?.() === 0;

describe("--out, checked before the plan runs", () => {
  it("accepts a new folder, even several levels deep, and creates nothing to know it", () => {
    const dir = path.join(fresh(), "a", "b");
    expect(outFolderProblem(dir)).toBeUndefined();
    expect(fs.existsSync(path.dirname(path.dirname(dir)))).toBe(false);
    expect(fs.readdirSync(scratch).filter((f) => f.startsWith(".plan-write-check-"))).toEqual([]);
  });

  it("accepts an existing folder, whatever it holds", () => {
    const dir = fresh();
    write(dir, { "notes.txt": "mine" });
    expect(outFolderProblem(dir)).toBeUndefined();
    expect(tree(dir)).toEqual(["notes.txt"]);
  });

  it.each([
    ["", "is empty: give a folder"],
    ["   ", "is empty: give a folder"],
    ["/proc/plan", "is under /proc, a kernel file system"],
    ["/proc", "is under /proc, a kernel file system"],
    ["/sys/kernel/plan", "is under /sys, a kernel file system"],
    ["/dev/shm/plan", "is under /dev, a kernel file system"],
  ])("refuses %j: %s", (dir, problem) => {
    expect(outFolderProblem(dir)).toBe(problem);
  });

  it("refuses a kernel file system reached through a symbolic link", () => {
    const link = fresh("to-proc");
    fs.symlinkSync("/proc/self", link);
    expect(outFolderProblem(path.join(link, "plan"))).toBe(`leads to ${fs.realpathSync("/proc/self")}${path.sep}plan, under /proc, a kernel file system`);
  });

  it("refuses an existing file, and a folder under a file", () => {
    const file = fresh("file");
    fs.writeFileSync(file, "x");
    expect(outFolderProblem(file)).toBe("is a file, not a folder");
    expect(outFolderProblem(path.join(file, "plan"))).toBe(`cannot be created: ${file} is a file`);
  });

  it("refuses a symbolic link to nothing, and a name longer than file systems allow", () => {
    const link = fresh("dangling");
    fs.symlinkSync(path.join(scratch, "nowhere"), link);
    expect(outFolderProblem(path.join(link, "plan"))).toBe(`${link} is a symbolic link to nothing`);
    expect(outFolderProblem(path.join(scratch, "x".repeat(256)))).toBe("has a name longer than 255 bytes");
  });

  it.skipIf(isRoot)("refuses a folder that cannot be written (permissions do not stop root: skipped as root)", () => {
    const dir = fresh("read-only");
    fs.mkdirSync(dir, { mode: 0o555 });
    try {
      expect(outFolderProblem(dir)).toBe("cannot be written: permission denied (EACCES)");
      expect(outFolderProblem(path.join(dir, "plan"))).toBe(`cannot be created in ${dir}: permission denied (EACCES)`);
    } finally {
      fs.chmodSync(dir, 0o755);
    }
  });

  it("checks an output file (adopt's --out) the same way", () => {
    const dir = fresh();
    fs.mkdirSync(dir);
    expect(outFileProblem(path.join(dir, "import.json"))).toBeUndefined();
    expect(outFileProblem(path.join(dir, "new", "import.json"))).toBeUndefined();
    expect(outFileProblem("")).toBe("is empty: give a file");
    expect(outFileProblem(dir)).toBe("is a folder, not a file");
    expect(outFileProblem("/dev/null")).toBe("is not a regular file");
    expect(outFileProblem("/proc/import.json")).toBe("is in a folder that is under /proc, a kernel file system");
  });
});

describe("writing the artefacts", () => {
  it("into a new folder: all files, an index of them, and no temporary folder beside it", () => {
    const dir = path.join(fresh(), "nested", "out");
    const written = commitArtefacts(dir, artefacts(PLAN), INDEX_FILE);
    expect(tree(dir)).toEqual([INDEX_FILE, "graph.mmd", "manifests/a.yaml", "manifests/b.yaml", "plan.json"]);
    expect(written.map((f) => path.relative(dir, f)).sort()).toEqual(Object.keys(PLAN).sort());
    expect(readIndex(path.join(dir, INDEX_FILE))).toEqual(["graph.mmd", "manifests/a.yaml", "manifests/b.yaml", "plan.json"]);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(["out"]);
  });

  it("into an existing folder: replaces what it writes, keeps everything else, foreign manifests included", () => {
    const dir = fresh();
    write(dir, { "notes.txt": "mine", "audit.md": "# audit", "plan.json": "old", "manifests/mine.yaml": "kind: Mine\n" });
    commitArtefacts(dir, artefacts(PLAN), INDEX_FILE);
    expect(tree(dir)).toEqual([INDEX_FILE, "audit.md", "graph.mmd", "manifests/a.yaml", "manifests/b.yaml", "manifests/mine.yaml", "notes.txt", "plan.json"]);
    expect(fs.readFileSync(path.join(dir, "plan.json"), "utf8")).toBe("{}\n");
    expect(fs.readFileSync(path.join(dir, "manifests", "mine.yaml"), "utf8")).toBe("kind: Mine\n");
  });

  it("removes a file of the previous run that this run does not write, and only such files", () => {
    const dir = fresh();
    commitArtefacts(dir, artefacts(PLAN), INDEX_FILE);
    write(dir, { "manifests/mine.yaml": "kind: Mine\n" });
    const { [path.join("manifests", "b.yaml")]: _gone, ...smaller } = PLAN;
    commitArtefacts(dir, artefacts(smaller), INDEX_FILE);
    expect(tree(dir)).toEqual([INDEX_FILE, "graph.mmd", "manifests/a.yaml", "manifests/mine.yaml", "plan.json"]);
  });

  it("removes a folder a stale file leaves empty", () => {
    const dir = fresh();
    commitArtefacts(dir, artefacts({ "plan.json": "{}", [path.join("extra", "x.yaml")]: "x" }), INDEX_FILE);
    commitArtefacts(dir, artefacts({ "plan.json": "{}" }), INDEX_FILE);
    expect(fs.readdirSync(dir).sort()).toEqual([INDEX_FILE, "plan.json"]);
  });

  it("removes nothing in a folder without an index, or whose index is not one of ours", () => {
    for (const index of [undefined, "not json", JSON.stringify({ files: "manifests/old.yaml" }), JSON.stringify({ files: ["../outside.yaml", "/etc/passwd", "manifests/../x.yaml"] })]) {
      const dir = fresh();
      write(dir, { "manifests/old.yaml": "old", "x.yaml": "x", ...(index === undefined ? {} : { [INDEX_FILE]: index }) });
      fs.writeFileSync(path.join(path.dirname(dir), "outside.yaml"), "outside");
      commitArtefacts(dir, artefacts({ "plan.json": "{}" }), INDEX_FILE);
      expect(tree(dir), String(index)).toEqual([INDEX_FILE, "manifests/old.yaml", "plan.json", "x.yaml"]);
      expect(fs.existsSync(path.join(path.dirname(dir), "outside.yaml"))).toBe(true);
    }
  });

  it("does not follow a folder replaced by a symbolic link since the last run", () => {
    const dir = fresh();
    const elsewhere = fresh("elsewhere");
    write(elsewhere, { "a.yaml": "someone else's" });
    commitArtefacts(dir, artefacts(PLAN), INDEX_FILE);
    fs.rmSync(path.join(dir, "manifests"), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(dir, "manifests"));
    commitArtefacts(dir, artefacts({ "plan.json": "{}" }), INDEX_FILE);
    expect(tree(elsewhere)).toEqual(["a.yaml"]);
  });

  it("fails part-way in a new folder: one OutputError, no folder, no temporary folder, no parent it created", () => {
    const parent = fresh("parent");
    const dir = path.join(parent, "out");
    // A name too long for the file system, after two files were written.
    const bad = artefacts({ "plan.json": "{}", "graph.mmd": "g", [`${"x".repeat(300)}.yaml`]: "x" });
    expect(() => commitArtefacts(dir, bad, INDEX_FILE)).toThrow(new OutputError(dir, `a name is too long (ENAMETOOLONG) at ${"x".repeat(300)}.yaml`));
    expect(fs.existsSync(parent)).toBe(false);
    expect(fs.readdirSync(scratch).filter((f) => f.includes(".plan-tmp-"))).toEqual([]);
  });

  it("fails part-way in an existing folder: every file as it was before, no temporary folder", () => {
    const dir = fresh();
    commitArtefacts(dir, artefacts({ "plan.json": "v1", "graph.mmd": "v1", [path.join("manifests", "gone.yaml")]: "v1" }), INDEX_FILE);
    write(dir, { "notes.txt": "mine" });
    const before = Object.fromEntries(tree(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
    // plan.json and graph.mmd move into place, then a folder is in the way of the third file.
    fs.mkdirSync(path.join(dir, "blocked.yaml"));
    const next = artefacts({ "plan.json": "v2", "graph.mmd": "v2", "blocked.yaml": "v2" });
    expect(() => commitArtefacts(dir, next, INDEX_FILE)).toThrow(new OutputError(dir, "blocked.yaml is a folder, where the plan writes a file"));
    fs.rmdirSync(path.join(dir, "blocked.yaml"));
    expect(Object.fromEntries(tree(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]))).toEqual(before);
    expect(fs.readdirSync(dir).filter((f) => f.includes(".plan-tmp-"))).toEqual([]);
  });

  it("refuses a file where the folder should be, and undoes a file in the way of a sub-folder", () => {
    const file = fresh("file");
    fs.writeFileSync(file, "x");
    expect(() => commitArtefacts(file, artefacts(PLAN), INDEX_FILE)).toThrow(new OutputError(file, "it is a file, not a folder"));
    const dir = fresh();
    write(dir, { manifests: "a file named manifests" });
    expect(() => commitArtefacts(dir, artefacts(PLAN), INDEX_FILE)).toThrow(OutputError);
    expect(tree(dir)).toEqual(["manifests"]);
  });

  it("treats an artefact path outside the folder as a bug, not as the user's mistake", () => {
    const dir = fresh();
    for (const p of ["../escape.yaml", "/etc/escape.yaml", INDEX_FILE]) {
      expect(() => commitArtefacts(dir, artefacts({ [p]: "x" }), INDEX_FILE)).toThrow(/is not a distinct path inside the output folder/);
    }
    expect(() => commitArtefacts(dir, [...artefacts({ "a.yaml": "1" }), ...artefacts({ "a.yaml": "2" })], INDEX_FILE)).toThrow(/not a distinct path/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
