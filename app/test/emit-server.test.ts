import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emitServer } from "../scripts/emit-server.mjs";

const scratch = mkdtempSync(join(tmpdir(), "emit-server-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// As tsconfig.server.json, with Node.js's types from the app's own @types/node.
const TYPE_ROOTS = [dirname(dirname(createRequire(__filename).resolve("@types/node/package.json")))];
const OPTIONS = { target: "ES2022", lib: ["ES2022"], types: ["node"], typeRoots: TYPE_ROOTS, module: "commonjs", moduleResolution: "bundler", esModuleInterop: true, isolatedModules: true, strict: true, skipLibCheck: true, rootDir: "src", outDir: "out" };

/** A project in its own folder: tsconfig.json (`options` over OPTIONS, `include`) and the sources. */
function project(name: string, sources: Record<string, string>, options: Record<string, unknown> = {}, include = ["src/main.ts"]): string {
  const dir = join(scratch, name);
  for (const [file, text] of Object.entries(sources)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...OPTIONS, ...options }, include }));
  return join(dir, "tsconfig.json");
}

const SOURCES = {
  "src/main.ts": 'import { readFileSync } from "node:fs";\nimport { greet } from "./lib/greet";\nimport type { Name } from "./lib/types";\nconst who: Name = "world";\nconsole.log(greet(who), typeof readFileSync);\n',
  "src/lib/greet.ts": 'import type { Name } from "./types";\nexport const greet = (name: Name): string => `hello ${name}`;\n',
  "src/lib/types.ts": "export type Name = string;\n",
  "src/unused.ts": "export const unused = 1;\n",
};

describe("the server's emit (scripts/emit-server.mjs)", () => {
  it("emits the entry points and the local modules they import, as CommonJS, into an emptied outDir", () => {
    const config = project("ok", SOURCES);
    mkdirSync(join(dirname(config), "out"), { recursive: true });
    writeFileSync(join(dirname(config), "out", "stale.js"), "");
    expect(emitServer(config).sort()).toEqual(["lib/greet.js", "lib/types.js", "main.js"]);
    const out = (f: string) => readFileSync(join(dirname(config), "out", f), "utf8");
    expect(out("main.js")).toContain('require("./lib/greet")');
    expect(out("main.js")).not.toContain("./lib/types");
    expect(out("lib/greet.js")).toContain("const greet = (name) => `hello ${name}`;\nexports.greet = greet;");
    expect(() => out("stale.js")).toThrow(/ENOENT/);
    expect(() => out("unused.js")).toThrow(/ENOENT/);
  });

  it("writes the source maps the config asks for", () => {
    const config = project("maps", SOURCES, { sourceMap: true });
    expect(emitServer(config)).toContain("main.js.map");
    expect(JSON.parse(readFileSync(join(dirname(config), "out", "main.js.map"), "utf8")).sources).toEqual(["../src/main.ts"]);
  });

  it("refuses a config without isolatedModules, naming it, and writes nothing", () => {
    const config = project("not-isolated", SOURCES, { isolatedModules: false });
    expect(() => emitServer(config)).toThrow(/tsconfig\.json must set isolatedModules/);
    expect(() => readFileSync(join(dirname(config), "out", "main.js"))).toThrow(/ENOENT/);
  });

  it("fails on a syntax error, naming the file, and on an import that does not resolve, leaving the last output", () => {
    const broken = project("syntax", { ...SOURCES, "src/lib/greet.ts": "export const greet = (name: string => name;\n" });
    expect(() => emitServer(broken)).toThrow(/src\/lib\/greet\.ts.*error TS1005/s);
    const missing = project("missing", { ...SOURCES, "src/main.ts": 'import { gone } from "./gone";\nconsole.log(gone);\n' });
    mkdirSync(join(dirname(missing), "out"), { recursive: true });
    writeFileSync(join(dirname(missing), "out", "main.js"), "// the last build");
    expect(() => emitServer(missing)).toThrow(/src\/main\.ts\(1,\d+\): error TS2307: Cannot find module '\.\/gone'/);
    expect(readFileSync(join(dirname(missing), "out", "main.js"), "utf8")).toBe("// the last build");
  });

  it("refuses a module outside rootDir", () => {
    const config = project("outside", { ...SOURCES, "src/main.ts": 'import { x } from "../shared/x";\nconsole.log(x);\n', "shared/x.ts": "export const x = 1;\n" });
    expect(() => emitServer(config)).toThrow(/shared\/x\.ts' is not under 'rootDir' '.*\/outside\/src'/);
    // Nothing written, in outDir or beside the source outside it.
    expect(() => readFileSync(join(dirname(config), "out", "main.js"))).toThrow(/ENOENT/);
    expect(() => readFileSync(join(dirname(config), "shared", "x.js"))).toThrow(/ENOENT/);
  });
});
