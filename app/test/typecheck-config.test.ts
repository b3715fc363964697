/**
 * What the types are checked on: tsconfig.json, which next build's own check reads (as do editors and
 * `npm run typecheck`). It covers the sources, the tests and the route types Next.js generates,
 * validator.ts included: it is what checks each page's and route's exports. tsconfig.json once excluded
 * .next/, so next build's check never read the validator: a page exporting a number passed it and
 * failed only at prerendering. Read after the build this suite runs on (`npm test` builds first).
 */
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
  it("are the sources, the tests and the route types where Next.js writes them, validator included", () => {
    const files = filesOf("tsconfig.json");
    expect(files).toEqual(expect.arrayContaining(["next-env.d.ts", ".next/types/validator.ts", ".next/types/routes.d.ts", "src/server.ts", "src/app/page.tsx", "test/processes.ts"]));
    expect(files.filter((f) => f.startsWith("build/") || f.startsWith("dist/") || f.startsWith(".next/standalone/"))).toEqual([]);
  });
});
