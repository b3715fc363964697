/**
 * The SDK modules a plan never uses load on first use: observed in a fresh process (a test worker has
 * loaded them already), test/plan/lazy-modules-probe.ts, whose observations are asserted here.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");

describe("deferred SDK modules", () => {
  it("load on first use, not when required, and then behave as themselves", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", path.join(__dirname, "lazy-modules-probe.ts")], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    const seen = JSON.parse(out.trim().split("\n").pop()!);
    expect(seen.typescriptAtStart).toBe(false);
    // What module interop asks right after a require is answered without loading.
    expect(seen.esModule).toBe(true);
    expect(seen.exportsDescriptor).toBeNull();
    expect(seen.afterRequire.typescript).toBe(false);
    expect(seen.afterRequire.arborist).toBe(false);

    expect(seen.parsed).toBe(true);
    expect(seen.typescriptAfterUse).toBe(true);
    expect(seen.arboristType).toBe("function");
    expect(seen.arboristAfterUse).toBe(true);
  });
});
