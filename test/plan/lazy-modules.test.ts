import { createRequire } from "node:module";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { deferUnusedSdkModules } from "../../infra/plan/lazy-modules";

const ROOT = path.resolve(__dirname, "..", "..");
const load = createRequire(path.join(ROOT, "package.json"));
const loaded = (pkg: string) => Object.keys(load.cache).some((f) => f.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`));

describe("deferred SDK modules", () => {
  it("load on first use, not when required, and then behave as themselves", () => {
    expect(loaded("typescript")).toBe(false);
    deferUnusedSdkModules();
    const ts = load("typescript") as typeof import("typescript");
    const arborist = load("@npmcli/arborist") as { Arborist: unknown };
    // What module interop asks right after a require is answered without loading.
    expect((ts as unknown as { __esModule: boolean }).__esModule).toBe(true);
    expect(Object.getOwnPropertyDescriptor(ts, "module.exports")).toBeUndefined();
    expect(loaded("typescript")).toBe(false);
    expect(loaded("@npmcli/arborist")).toBe(false);

    expect(ts.isVariableStatement(ts.createSourceFile("x.ts", "let a = 1", ts.ScriptTarget.Latest).statements[0])).toBe(true);
    expect(loaded("typescript")).toBe(true);
    expect(typeof arborist.Arborist).toBe("function");
    expect(loaded("@npmcli/arborist")).toBe(true);
  });
});
