// Compiles the custom server and the keys tool (tsconfig.server.json: src/server.ts, src/keys.ts and
// the local modules they import) to build/server/: `tsc -p tsconfig.server.json --noEmitOnError`, with
// TypeScript 7's native compiler (scripts/tsc.mjs). It emits the same files, byte for byte, as the
// per-file transpileModule of TypeScript 5.9 it replaced, and checks these files' types on the way for
// about 0.2 CPU-s more (1.5 CPU-s in all; 5.9's tsc had taken 3.8 s for the emit alone). The type check
// run beside it (scripts/build.mjs) checks them again with the rest of the project: what the emit adds
// is that it writes nothing on any error, a file outside rootDir included (under `noCheck`, TypeScript
// 7 would write such a file beside its source instead).
import { renameSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tsc } from "./tsc.mjs";

/**
 * Emits the project of `configFile` (its files and the local modules they import, transitively) into
 * its outDir, emptied first. Returns the files written, relative to outDir, sorted. Throws, leaving
 * outDir as it was, on a config error, a config without isolatedModules (Next.js compiles the same
 * lib/ modules one file at a time: the emit must not accept what that compile cannot), outDir or rootDir, or any error tsc reports (syntax, types, an
 * import that does not resolve, a file outside rootDir). The emit goes to a folder beside outDir,
 * swapped in once tsc has passed.
 */
export function emitServer(configFile) {
  const cwd = dirname(configFile);
  const name = relative(process.cwd(), configFile);
  const shown = tsc(["--showConfig", "--project", configFile], cwd);
  if (shown.status !== 0) throw new Error(shown.output);
  const options = JSON.parse(shown.output).compilerOptions;
  if (!options.isolatedModules) throw new Error(`${name} must set isolatedModules: Next.js compiles the same modules one file at a time`);
  if (!options.outDir || !options.rootDir) throw new Error(`${name} must set outDir and rootDir`);
  const outDir = resolve(cwd, options.outDir);

  // Beside outDir, at the same depth: the source maps' relative paths hold once it is renamed.
  const staging = `${outDir}.emitting`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const emit = tsc(["--project", configFile, "--outDir", staging, "--noEmitOnError", "--listEmittedFiles"], cwd);
    if (emit.status !== 0) throw new Error(emit.output);
    const written = [...emit.output.matchAll(/^TSFILE: (.*)$/gm)].map(([, file]) => relative(staging, file)).sort();
    rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);
    return written;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    emitServer(join(dirname(fileURLToPath(import.meta.url)), "..", "tsconfig.server.json"));
  } catch (err) {
    console.error(`emit-server: ${err.message}`);
    process.exit(1);
  }
}
