// The folder `npm run plan -- <stack> --out DIR` writes to: checked before the plan runs, written all
// at once or not at all. `npm run audit` checks its --out here, `npm run adopt` its file and its write.
// No Pulumi here, so the command line is answered before the SDK loads.
//
// - `outFolderProblem` refuses, before any work, a value that cannot end well: empty (it would mean the
//   current folder), an existing file, a kernel file system (/proc, /sys, /dev: Node's recursive mkdir
//   spins forever under /proc), a folder that cannot be created or written.
// - `commitArtefacts` writes every file into a temporary folder on the target's file system, and only
//   when all are written moves them into place with renames: beside a new target, one rename of the
//   whole folder; inside an existing one (it may hold other files, and may be a mount point, where a
//   rename from its parent would cross file systems), one rename per file, each replaced file kept
//   aside until the end. Any failure undoes what was done: no temporary folder, no partial artefacts.
// - Files left by an earlier run are removed only if that run listed them in the index file
//   (`.plan-artefacts.json`): a file someone else put in the folder, in manifests/ included, stays.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** A file to write, relative to the output folder. */
export interface Artefact {
  path: string;
  content: string;
}

/** The index of what the last run wrote, kept in the output folder. */
export const INDEX_FILE = ".plan-artefacts.json";

/** Mount points of kernel file systems: what looks like a file there is not one. */
const SPECIAL_ROOTS = ["/proc", "/sys", "/dev"];

/** The same file systems wherever they are mounted, by their statfs magic number (linux/magic.h). */
const SPECIAL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0x6165676c, "pstore"],
  [0xcafe4a11, "bpf"],
  [0x62656570, "configfs"],
  [0x65735543, "fusectl"],
  [0xde5e81e4, "efivarfs"],
  [0x19800202, "mqueue"],
]);

/** Longest file name most file systems accept, in bytes. */
const MAX_NAME_BYTES = 255;

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENAMETOOLONG: "a name is too long",
  EISDIR: "a folder is in the way",
  ENOTDIR: "a file is in the way of a folder",
  EEXIST: "a file is in the way of a folder",
  ENOENT: "a folder disappeared",
  EIO: "input/output error",
  EXDEV: "the temporary folder is on another file system",
  ELOOP: "too many symbolic links",
  EMFILE: "too many open files",
};

function systemCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/** A system error as a few words and its code (`permission denied (EACCES)`); never a stack. */
export function reasonOf(err: unknown): string {
  const code = systemCode(err);
  if (code) return `${REASONS[code] ?? code.toLowerCase()} (${code})`;
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}

/**
 * Writing failed on the user's side (permissions, space, something in the way). `commitArtefacts`
 * undoes what it did first, hence `undone`: a writer that cannot promise it says nothing of the kind.
 */
export class OutputError extends Error {
  constructor(dir: string, what: string, undone = true) {
    super(`Cannot write to ${dir}: ${what}${undone ? "; nothing was written" : ""}.`);
    this.name = "OutputError";
  }
}

function lstatOf(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if (systemCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

function underSpecialRoot(p: string): string | undefined {
  return SPECIAL_ROOTS.find((root) => p === root || p.startsWith(`${root}${path.sep}`));
}

function specialFileSystem(p: string): string | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    return SPECIAL_FILE_SYSTEMS.get(Number(fs.statfsSync(p).type));
  } catch {
    return undefined;
  }
}

/** The deepest existing path at or above `p`, following symbolic links, or a problem on the way. */
function nearestExisting(p: string): { at: string; stat: fs.Stats } | { problem: string } {
  for (let at = p; ; at = path.dirname(at)) {
    try {
      return { at, stat: fs.statSync(at) };
    } catch (err) {
      const code = systemCode(err);
      if (code === "ENOENT" && lstatOf(at)?.isSymbolicLink()) return { problem: `${at} is a symbolic link to nothing` };
      if (code !== "ENOENT" && code !== "ENOTDIR") return { problem: `${at} cannot be examined: ${reasonOf(err)}` };
      if (at === path.dirname(at)) return { problem: "no part of it exists" };
    }
  }
}

/**
 * Why `dir` cannot be the output folder, or undefined when it can: it is not empty, not an existing
 * file, not on a kernel file system, and a folder can be made in it or in its nearest existing parent.
 * It makes and removes an empty folder there to know: permissions alone do not say (root, read-only
 * mounts).
 */
export function outFolderProblem(dir: string): string | undefined {
  if (dir.trim() === "") return "is empty: give a folder";
  const target = path.resolve(dir);
  if (target.split(path.sep).some((name) => Buffer.byteLength(name) > MAX_NAME_BYTES)) return `has a name longer than ${MAX_NAME_BYTES} bytes`;
  const root = underSpecialRoot(target);
  if (root) return `is under ${root}, a kernel file system`;
  const found = nearestExisting(target);
  if ("problem" in found) return found.problem;
  const { at, stat } = found;
  let real: string;
  try {
    real = path.join(fs.realpathSync(at), path.relative(at, target));
  } catch (err) {
    return `${at} cannot be examined: ${reasonOf(err)}`;
  }
  const realRoot = underSpecialRoot(real);
  if (realRoot) return `leads to ${real}, under ${realRoot}, a kernel file system`;
  const kernel = specialFileSystem(at);
  if (kernel) return `is on a kernel file system (${kernel})`;
  if (at === target && !stat.isDirectory()) return "is a file, not a folder";
  if (at !== target && !stat.isDirectory()) return `cannot be created: ${at} is a file`;
  try {
    fs.rmdirSync(fs.mkdtempSync(path.join(at, ".plan-write-check-")));
  } catch (err) {
    return at === target ? `cannot be written: ${reasonOf(err)}` : `cannot be created in ${at}: ${reasonOf(err)}`;
  }
  return undefined;
}

/** Why `file` cannot be written as one output file (`npm run adopt -- --out FILE`), or undefined when it can. */
export function outFileProblem(file: string): string | undefined {
  if (file.trim() === "") return "is empty: give a file";
  const target = path.resolve(file);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(target);
  } catch {
    // Absent, or behind a file or a broken link: the folder check below says which.
  }
  if (stat?.isDirectory()) return "is a folder, not a file";
  if (stat && !stat.isFile()) return "is not a regular file";
  if (Buffer.byteLength(path.basename(target)) > MAX_NAME_BYTES) return `has a name longer than ${MAX_NAME_BYTES} bytes`;
  const folder = outFolderProblem(path.dirname(target));
  return folder && `is in a folder that ${folder}`;
}

/** An artefact's path as the index lists it: relative, `/`-separated, inside the folder. */
function relativeInside(p: string): string | undefined {
  const posix = p.split(path.sep).join("/");
  const normal = path.posix.normalize(posix);
  if (normal !== posix || path.posix.isAbsolute(posix) || normal === "." || normal.startsWith("../") || normal === "..") return undefined;
  return normal;
}

/** The files an earlier run listed in `file`; nothing (so nothing is removed) if the index is absent or not one of ours. */
export function readIndex(file: string): string[] {
  let listed: unknown;
  try {
    listed = (JSON.parse(fs.readFileSync(file, "utf8")) as { files?: unknown }).files;
  } catch {
    return [];
  }
  if (!Array.isArray(listed)) return [];
  return listed.filter((f): f is string => typeof f === "string" && relativeInside(f) === f && f !== INDEX_FILE);
}

/** Creates `dir` and its missing parents, adding to `undo` (run last to first) how to remove each. */
function makeFolders(dir: string, undo: (() => void)[] = []): void {
  const missing: string[] = [];
  for (let at = dir; !lstatOf(at); at = path.dirname(at)) missing.unshift(at);
  for (const folder of missing) {
    fs.mkdirSync(folder);
    undo.push(() => fs.rmdirSync(folder));
  }
}

function tempName(base: string): string {
  return `.${base.slice(0, 100)}.plan-tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * Writes `artefacts` under `dir` all at once (see the top of this file) and returns the files written.
 * With `index`, lists them in `dir/<index>` and removes the files the previous index listed that this
 * run does not write. A system error (permissions, space, a file in the way) becomes an
 * {@link OutputError} once everything is undone; any other error is rethrown as it is.
 */
export function commitArtefacts(dir: string, artefacts: Artefact[], index?: string): string[] {
  const target = path.resolve(dir);
  const files = new Map<string, string>();
  for (const a of artefacts) {
    const rel = relativeInside(a.path);
    if (rel === undefined || rel === index || files.has(rel)) throw new Error(`artefact path ${JSON.stringify(a.path)} is not a distinct path inside the output folder`);
    files.set(rel, a.content);
  }
  if (index) files.set(index, `${JSON.stringify({ writtenBy: "npm run plan", files: [...files.keys()].sort() }, null, 2)}\n`);

  const undo: (() => void)[] = [];
  let temp: string | undefined;
  /** The file being written or moved, for the message. */
  let current: string | undefined;
  const writeAll = (folder: string) => {
    for (const [rel, content] of files) {
      current = rel;
      const file = path.join(folder, ...rel.split("/"));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    current = undefined;
  };
  try {
    const existing = fs.statSync(target, { throwIfNoEntry: false });
    if (existing && !existing.isDirectory()) throw new OutputError(target, "it is a file, not a folder");
    if (!existing) {
      makeFolders(path.dirname(target), undo);
      const beside = path.join(path.dirname(target), tempName(path.basename(target)));
      temp = beside;
      fs.mkdirSync(beside);
      // Removed before the parents this run created, which must be empty to go.
      undo.push(() => fs.rmSync(beside, { recursive: true, force: true }));
      writeAll(beside);
      fs.renameSync(beside, target);
      temp = undefined;
    } else {
      temp = path.join(target, tempName("artefacts"));
      fs.mkdirSync(temp);
      const staged = path.join(temp, "new");
      const aside = path.join(temp, "previous");
      writeAll(staged);
      const moveAside = (rel: string) => {
        current = rel;
        const from = path.join(target, ...rel.split("/"));
        const to = path.join(aside, ...rel.split("/"));
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.renameSync(from, to);
        undo.push(() => {
          makeFolders(path.dirname(from));
          fs.renameSync(to, from);
        });
      };
      const stale = index ? staleFiles(target, readIndex(path.join(target, index)), files) : [];
      for (const rel of files.keys()) {
        current = rel;
        const to = path.join(target, ...rel.split("/"));
        makeFolders(path.dirname(to), undo);
        const before = lstatOf(to);
        if (before?.isDirectory()) throw new OutputError(target, `${rel} is a folder, where the plan writes a file`);
        if (before) moveAside(rel);
        fs.renameSync(path.join(staged, ...rel.split("/")), to);
        undo.push(() => fs.rmSync(to));
      }
      for (const rel of stale) moveAside(rel);
      for (const rel of stale) removeEmptyFolders(target, path.dirname(path.join(target, ...rel.split("/"))));
    }
  } catch (err) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // Undo as much as possible: one step failing must not keep the others from running.
      }
    }
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
    if (err instanceof OutputError || !systemCode(err)) throw err;
    throw new OutputError(target, `${reasonOf(err)}${current ? ` at ${current}` : ""}`);
  }
  if (temp) fs.rmSync(temp, { recursive: true, force: true });
  return [...files.keys()].filter((rel) => rel !== index).map((rel) => path.join(target, ...rel.split("/")));
}

/**
 * The files of an earlier run's index that this run does not write, where they still are regular
 * files, reached without a symbolic link out of `target`: a folder replaced by a link since is not
 * followed.
 */
function staleFiles(target: string, listed: string[], written: Map<string, string>): string[] {
  const realTarget = fs.realpathSync(target);
  return listed.filter((rel) => {
    if (written.has(rel)) return false;
    const file = path.join(target, ...rel.split("/"));
    try {
      return fs.lstatSync(file).isFile() && fs.realpathSync(path.dirname(file)) === path.join(realTarget, ...path.posix.dirname(rel).split("/"));
    } catch {
      return false;
    }
  });
}

/** Removes `folder` and its parents up to (not including) `top` while they are empty. */
function removeEmptyFolders(top: string, folder: string): void {
  for (let at = folder; at !== top && at.startsWith(`${top}${path.sep}`); at = path.dirname(at)) {
    try {
      fs.rmdirSync(at);
    } catch {
      return;
    }
  }
}
