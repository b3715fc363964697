/**
 * The app's type check. What it reads: tsconfig.json (as do editors and `npm run typecheck`), which
 * covers the sources, the tests and the route types Next.js generates, validator.ts included: it is
 * what checks each page's and route's exports. tsconfig.json once excluded .next/, so the check never
 * read the validator: a page exporting a number passed it and failed only at prerendering. Read after
 * the build this suite runs on (`npm test` builds first).
 * Who runs it: `npm run build` (scripts/build.mjs), beside next build's compilation once next build
 * says it has written the route types. It must be exactly next build's own check, next build must
 * leave it out only when the build script asks, and what the script waits for must be what next build
 * prints after writing the route types. (That a type error fails the build and leaves dist/ as it was is checked by hand: a
 * build per case is more than this suite should spend.)
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { ROUTE_TYPES_WRITTEN, TYPE_CHECK_ARGS } from "../scripts/build.mjs";
import { TSC_EXE, TYPESCRIPT_VERSION, tsc } from "../scripts/tsc.mjs";
import { nextConfig } from "./next-config";

const appDir = join(__dirname, "..");
const nextRequire = createRequire(join(appDir, "package.json"));

/** `config` as TypeScript reads it (`tsc --showConfig`, as Next.js reads it): its options and files, relative to the app. */
function parsedConfig(config: string): { compilerOptions: Record<string, unknown>; files: string[] } {
  const shown = tsc(["--showConfig", "--project", config], appDir);
  expect(shown.status, shown.output).toBe(0);
  const parsed = JSON.parse(shown.output);
  return { compilerOptions: parsed.compilerOptions, files: parsed.files.map((f: string) => normalize(f)) };
}

/** The arguments next build gives tsc (next/dist/lib/typescript/runTypeCheckCli.js), the config path as `tsconfig.json`. */
function nextTypeCheckArgs(): string[] {
  const source = readFileSync(nextRequire.resolve("next/dist/lib/typescript/runTypeCheckCli.js"), "utf8");
  const list = /const args = \[([^\]]*)\];/.exec(source);
  expect(list, "the argument list of next build's type check").not.toBeNull();
  return [...list![1].matchAll(/'([^']*)'|(tsConfigPath)/g)].map(([, literal, path]) => (path ? "tsconfig.json" : literal));
}

/** next build's own source (next/dist/build/index.js). */
const nextBuildSource = () => readFileSync(nextRequire.resolve("next/dist/build/index.js"), "utf8");

/** next.config.mjs's `typescript` settings, as a production process with `env` reads them. */
const typescriptSettings = (env: Record<string, string>) => nextConfig(env).typescript;

describe("the type check", () => {
  it("reads the sources, the tests and the route types where Next.js writes them, validator included", () => {
    const { files } = parsedConfig("tsconfig.json");
    expect(files).toEqual(expect.arrayContaining(["next-env.d.ts", ".next/types/validator.ts", ".next/types/routes.d.ts", "src/server.ts", "src/app/page.tsx", "test/processes.ts"]));
    expect(files.filter((f) => f.startsWith("build/") || f.startsWith("dist/") || f.startsWith(".next/standalone/"))).toEqual([]);
  });

  it("is next build's own, on a tsconfig.json without incremental (Next.js would add a build-info file)", () => {
    expect(TYPE_CHECK_ARGS).toEqual(nextTypeCheckArgs());
    const { compilerOptions } = parsedConfig("tsconfig.json");
    expect(compilerOptions.incremental || compilerOptions.composite || false).toBe(false);
  });

  it("runs the compiler next build runs: TypeScript 7's tsc, through its command line", () => {
    // The package Next.js finds is the one scripts/tsc.mjs reads, and the binary the scripts start is the
    // compiler the wrapper Next.js would start runs.
    const { getTypeScriptPackageInfo } = nextRequire("next/dist/lib/typescript/runTypeScriptCli.js");
    const { tscPath, version: nextVersion } = getTypeScriptPackageInfo(appDir);
    expect(nextVersion).toBe(TYPESCRIPT_VERSION);
    expect(TYPESCRIPT_VERSION).toMatch(/^7\./);
    const version = `Version ${TYPESCRIPT_VERSION}`;
    expect(execFileSync(process.execPath, [tscPath, "--version"], { encoding: "utf8" }).trim()).toBe(version);
    expect(execFileSync(TSC_EXE, ["--version"], { encoding: "utf8" }).trim()).toBe(version);
    // TypeScript 7 has no compiler API: Next.js must use the CLI, its default, which next.config.mjs keeps.
    expect(getTypeScriptPackageInfo(appDir).apiPath).toBeUndefined();
    expect(nextRequire("next/dist/server/config-shared.js").defaultConfig.experimental.useTypeScriptCli).toBe(true);
    expect(nextConfig({}).experimental).not.toHaveProperty("useTypeScriptCli");
  });

  it("is left out of next build only when the build script asks", () => {
    expect(typescriptSettings({ NEXT_BUILD_TYPE_CHECK: "beside" })).toEqual({ ignoreBuildErrors: true });
    expect(typescriptSettings({})).toEqual({ ignoreBuildErrors: false });
    expect(typescriptSettings({ NEXT_BUILD_TYPE_CHECK: "yes" })).toEqual({ ignoreBuildErrors: false });
  });

  it("starts once next build has printed that the route types are written, which it does after writing them", () => {
    const source = nextBuildSource();
    const writes = [...source.matchAll(/traceChild\('generate-route-types'\)/g)].map((m) => m.index);
    const said = [...source.matchAll(/_log\.info\('([^']*)'\)/g)].filter(([, text]) => text.includes(ROUTE_TYPES_WRITTEN)).map((m) => m.index);
    // Written once, said once, said after.
    expect(writes).toHaveLength(1);
    expect(said).toHaveLength(1);
    expect(said[0]).toBeGreaterThan(writes[0]);
    // Nothing else in next build writes them: only that step names the route types' files.
    expect([...source.matchAll(/'routes\.d\.ts'|'validator\.ts'/g)].every((m) => m.index! > writes[0] && m.index! < said[0])).toBe(true);
  });
});
