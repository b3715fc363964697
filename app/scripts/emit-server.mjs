// Compiles the custom server and the keys tool (tsconfig.server.json: src/server.ts, src/keys.ts and
// the local modules they import) to build/server/, one file at a time with TypeScript's own
// transpileModule: what `tsc -p tsconfig.server.json` emits, without building a whole program first
// (tsc parsed every declaration file of next, mongodb and the AWS SDK to emit 23 files: 3.8 s against
// 1.4 s). Per-file emit is exact because the project compiles with isolatedModules, under which the
// type check of `next build` (run beside this emit: scripts/build.mjs) rejects whatever one file cannot
// be compiled from alone. Emit only: a syntax error fails the build; type errors are next build's.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ts = createRequire(import.meta.url)("typescript");

const message = (diagnostics, cwd) =>
  ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => cwd, getNewLine: () => "\n" }).trim();

/**
 * Emits the project of `configFile` (its files and the local modules they import, transitively) into
 * its outDir, emptied first. Returns the files written, relative to outDir. Throws, writing nothing,
 * on a config error, a config without isolatedModules, outDir or rootDir, an import that does not
 * resolve, a file outside rootDir, or a syntax error.
 */
export function emitServer(configFile) {
  const cwd = dirname(configFile);
  const name = relative(process.cwd(), configFile);
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(message([d], cwd));
    },
  });
  if (parsed.errors.length) throw new Error(message(parsed.errors, cwd));
  const { options } = parsed;
  if (!options.isolatedModules) throw new Error(`${name} must set isolatedModules: each file is compiled on its own`);
  if (!options.outDir || !options.rootDir) throw new Error(`${name} must set outDir and rootDir`);

  // The entry points and every local module reachable from them: the files tsc would emit.
  const files = new Set();
  const pending = [...parsed.fileNames];
  while (pending.length) {
    const file = pending.pop();
    if (files.has(file)) continue;
    files.add(file);
    for (const { fileName: specifier } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
      if (!specifier.startsWith(".")) continue;
      const { resolvedModule } = ts.resolveModuleName(specifier, file, options, ts.sys);
      if (!resolvedModule) throw new Error(`${relative(cwd, file)}: cannot resolve "${specifier}"`);
      if (!resolvedModule.isExternalLibraryImport && resolvedModule.extension !== ts.Extension.Dts) pending.push(resolvedModule.resolvedFileName);
    }
  }

  const outputs = [...files].sort().map((file) => {
    const rel = relative(options.rootDir, file);
    if (rel.startsWith("..")) throw new Error(`${relative(cwd, file)} is outside rootDir (${relative(cwd, options.rootDir) || "."})`);
    const out = ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: options, fileName: file, reportDiagnostics: true });
    if (out.diagnostics?.length) throw new Error(message(out.diagnostics, cwd));
    const js = rel.replace(/\.tsx?$/, ".js");
    return [[js, out.outputText], ...(out.sourceMapText ? [[`${js}.map`, out.sourceMapText]] : [])];
  });

  rmSync(options.outDir, { recursive: true, force: true });
  const written = [];
  for (const [rel, text] of outputs.flat()) {
    const dest = join(options.outDir, rel);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, text);
    written.push(rel);
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    emitServer(join(dirname(fileURLToPath(import.meta.url)), "..", "tsconfig.server.json"));
  } catch (err) {
    console.error(`emit-server: ${err.message}`);
    process.exit(1);
  }
}
