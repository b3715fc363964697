// Turns `next build`'s standalone output into dist/: the folder the image runs and the tests start.
//
// In an npm workspace Next.js traces from the repository root, so `.next/standalone` holds
// `node_modules/` (traced dependencies) and `app/` (this package). dist/ flattens that into one
// self-contained folder: server.js and keys.js (ours, compiled by tsc) and their lib/, .next/ (the
// build, with the static assets Next.js leaves out of standalone), node_modules/. Packages only our
// server code uses (the KMS client) are not in Next.js's trace: they are traced here with the same
// tracer (@vercel/nft) and copied. Then it checks that every package the server requires resolves
// from dist/ and that no symlink leads out of it, so a missing trace fails the build, not the pod.
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inputsHash } from "./inputs.mjs";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const standalone = join(appDir, ".next", "standalone");
// dist/, or the folder given (scripts/build.mjs assembles into a folder beside it, swapped in once the
// type check has passed too).
const dist = resolve(process.argv[2] ?? join(appDir, "dist"));
const { config } = JSON.parse(readFileSync(join(appDir, ".next", "required-server-files.json"), "utf8"));
const nested = join(standalone, relative(config.outputFileTracingRoot, appDir));

// next.config's outputFileTracingExcludes for the server: webpack's trace applies them, Turbopack's
// trace of next-server does not (it brings sharp and its libvips in, 20 MB). Left out of the copy below,
// unless a route's own trace needs one of the files.
const picomatch = createRequire(import.meta.url)("next/dist/compiled/picomatch");
const serverExcludes = Object.entries(config.outputFileTracingExcludes ?? {})
  .filter(([route]) => picomatch(route)("next-server"))
  .flatMap(([, globs]) => globs);
const excluded = serverExcludes.length ? picomatch(serverExcludes, { dot: true }) : () => false;
const needed = new Set();
const walk = (dir, visit) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, visit);
    else visit(path, entry);
  }
};
if (serverExcludes.length) {
  walk(join(appDir, ".next", "server"), (path) => {
    if (!path.endsWith(".nft.json")) return;
    for (const file of JSON.parse(readFileSync(path, "utf8")).files) needed.add(relative(config.outputFileTracingRoot, resolve(dirname(path), file)));
  });
}

rmSync(dist, { recursive: true, force: true });
cpSync(join(standalone, "node_modules"), join(dist, "node_modules"), {
  recursive: true,
  verbatimSymlinks: true,
  // Folders are always entered (a file in one may be needed); those left empty are removed below.
  filter: (source) => {
    const file = relative(standalone, source);
    if (!excluded(file) || lstatSync(source).isDirectory()) return true;
    if (needed.has(file)) throw new Error(`${file} is excluded from the trace (outputFileTracingExcludes) but a route needs it`);
    return false;
  },
});
if (serverExcludes.length) {
  const prune = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) prune(join(dir, entry.name));
    if (!readdirSync(dir).length) rmSync(dir, { recursive: true });
  };
  prune(join(dist, "node_modules"));
}
cpSync(join(nested, ".next"), join(dist, ".next"), { recursive: true, verbatimSymlinks: true });
cpSync(join(nested, "package.json"), join(dist, "package.json"));
cpSync(join(appDir, ".next", "static"), join(dist, ".next", "static"), { recursive: true });
if (existsSync(join(appDir, "public"))) cpSync(join(appDir, "public"), join(dist, "public"), { recursive: true });
cpSync(join(appDir, "build", "server"), dist, { recursive: true });

// Turbopack requires each of serverExternalPackages through an alias, .next/node_modules/<name>-<hash>:
// a relative symlink to the package in the standalone root's node_modules, one level further up than
// in dist/. Each link is re-pointed at the same place in dist/ (checked below: nothing may lead out).
const distPathOf = (standalonePath) => {
  const inNested = relative(nested, standalonePath);
  if (!inNested.startsWith("..")) return join(dist, inNested);
  const inStandalone = relative(standalone, standalonePath);
  return inStandalone.startsWith("node_modules") ? join(dist, inStandalone) : undefined;
};
walk(join(nested, ".next"), (path, entry) => {
  if (!entry.isSymbolicLink()) return;
  const target = distPathOf(resolve(dirname(path), readlinkSync(path)));
  const link = join(dist, relative(nested, path));
  if (!target) throw new Error(`${relative(standalone, path)} links outside the standalone output: ${readlinkSync(path)}`);
  rmSync(link, { force: true });
  symlinkSync(relative(dirname(link), target), link);
});

/** Bare requires of our compiled code whose package is not in dist/node_modules (the image has nothing else). */
const packageOf = (spec) => spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");
const scan = (dir, missing = []) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) scan(file, missing);
    else if (file.endsWith(".js")) {
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/require\("([^".][^"]*)"\)/g)) {
        if (isBuiltin(spec) || existsSync(join(dist, "node_modules", packageOf(spec), "package.json"))) continue;
        missing.push({ from: relative(dist, file), spec });
      }
    }
  }
  return missing;
};

const untraced = scan(join(appDir, "build", "server"));
if (untraced.length) {
  const root = config.outputFileTracingRoot;
  const fromApp = createRequire(join(appDir, "package.json"));
  const require = createRequire(import.meta.url);
  const { nodeFileTrace } = require("next/dist/compiled/@vercel/nft");
  const entries = [...new Set(untraced.map((m) => fromApp.resolve(m.spec)))];
  const { fileList } = await nodeFileTrace(entries, { base: root, processCwd: appDir });
  let copied = 0;
  for (const file of fileList) {
    if (!file.startsWith("node_modules/")) continue;
    const target = join(dist, file);
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(root, file), target, { verbatimSymlinks: true });
    copied += 1;
  }
  console.log(`traced ${entries.length} package entr${entries.length === 1 ? "y" : "ies"} the server needs beyond Next.js's trace: ${copied} files copied`);
}
const missing = scan(join(appDir, "build", "server")).map((m) => `${m.from} → ${m.spec}`);
// The image holds dist/ alone: every symlink in it must lead to a file or folder in it.
walk(dist, (path, entry) => {
  if (!entry.isSymbolicLink()) return;
  let target;
  try {
    target = realpathSync(path);
  } catch {
    // dangling
  }
  if (!target || relative(realpathSync(dist), target).startsWith("..")) missing.push(`${relative(dist, path)} → ${readlinkSync(path)} (a link out of dist/)`);
});
if (missing.length) {
  console.error(`dist/ cannot run: unresolved requires\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
writeFileSync(join(dist, ".inputs-hash"), inputsHash(appDir));
console.log(`assembled ${relative(process.cwd(), dist) || "."}`);
