/**
 * What the types are checked on: the build's check (scripts/build.mjs: tsconfig.typecheck.json, beside
 * next build) and tsconfig.json (editors, `npm run typecheck`, a bare `next build`). Both cover the
 * sources, the tests and the route types Next.js generates, validator.ts included: it is what checks
 * each page's and route's exports. tsconfig.json once excluded .next/, so next build's own check never
 * read the validator: a page exporting a number passed it and failed only at prerendering.
 * Read after the build this suite runs on (`npm test` builds first), which wrote both sets of route types.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const appDir = join(__dirname, "..");

/** The files `config` gives TypeScript, relative to the app. */
function filesOf(config: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(appDir, config), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  expect(parsed!.errors).toEqual([]);
  return parsed!.fileNames.map((f) => relative(appDir, f));
}

describe("the type check's files", () => {
  it("of the build: sources, tests and the route types copied to build/, not .next/ (which next build rewrites meanwhile)", () => {
    const files = filesOf("tsconfig.typecheck.json");
    expect(files).toEqual(expect.arrayContaining(["build/next-env.d.ts", "build/types/validator.ts", "build/types/routes.d.ts", "src/server.ts", "src/app/page.tsx", "test/processes.ts"]));
    expect(files.filter((f) => f.startsWith(".next/") || f.startsWith("build/server/") || f === "next-env.d.ts")).toEqual([]);
    // The copy of next-env.d.ts reads the copied route types.
    const env = readFileSync(join(appDir, "build", "next-env.d.ts"), "utf8");
    expect(env).toContain('import "./types/routes.d.ts";');
    expect(env).not.toContain(".next/");
  });

  it("of tsconfig.json: the same, with the route types where Next.js writes them", () => {
    const files = filesOf("tsconfig.json");
    expect(files).toEqual(expect.arrayContaining(["next-env.d.ts", ".next/types/validator.ts", ".next/types/routes.d.ts", "src/server.ts", "src/app/page.tsx", "test/processes.ts"]));
    expect(files.filter((f) => f.startsWith("build/") || f.startsWith("dist/"))).toEqual([]);
  });
});
