/**
 * `npm run build` (scripts/build.mjs) runs next build's type check itself, after next build and beside
 * the assembly of dist/: it must be exactly Next.js's check, and next build must leave it out only when
 * the build script asks. (That a type error fails the build and leaves dist/ as it was is checked by
 * hand: a build per case is more than this suite should spend.)
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { TYPE_CHECK_ARGS } from "../scripts/build.mjs";

const appDir = join(__dirname, "..");

/** The arguments next build gives tsc (next/dist/lib/typescript/runTypeCheckCli.js), the config path as `tsconfig.json`. */
function nextTypeCheckArgs(): string[] {
  const source = readFileSync(createRequire(join(appDir, "package.json")).resolve("next/dist/lib/typescript/runTypeCheckCli.js"), "utf8");
  const list = /const args = \[([^\]]*)\];/.exec(source);
  expect(list, "the argument list of next build's type check").not.toBeNull();
  return [...list![1].matchAll(/'([^']*)'|(tsConfigPath)/g)].map(([, literal, path]) => (path ? "tsconfig.json" : literal));
}

/** next.config.mjs's `typescript` settings, as a production process with `env` reads them. */
function typescriptSettings(env: Record<string, string>): unknown {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", 'console.log(JSON.stringify((await import("./next.config.mjs")).default.typescript))'], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
    encoding: "utf8",
  });
  return JSON.parse(out);
}

describe("the build's type check", () => {
  it("is next build's own, on a tsconfig.json without incremental (Next.js would add a build-info file)", () => {
    expect(TYPE_CHECK_ARGS).toEqual(nextTypeCheckArgs());
    const { options } = ts.getParsedCommandLineOfConfigFile(join(appDir, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    expect(options.incremental || options.composite || false).toBe(false);
  });

  it("is left out of next build only when the build script asks", () => {
    expect(typescriptSettings({ NEXT_BUILD_TYPE_CHECK: "beside" })).toEqual({ ignoreBuildErrors: true });
    expect(typescriptSettings({})).toEqual({ ignoreBuildErrors: false });
    expect(typescriptSettings({ NEXT_BUILD_TYPE_CHECK: "yes" })).toEqual({ ignoreBuildErrors: false });
  });
});
