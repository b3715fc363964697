/**
 * Turbopack's build cache: written by next build unless scripts/build.mjs asks it not to, which it
 * does on a checkout's first build only (no dist/ yet), where nothing would read the cache.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writesBuildCache } from "../scripts/build.mjs";
import { nextConfig } from "./next-config";

/** next.config.mjs's `experimental` settings, as a production process with `env` reads them. */
const experimentalSettings = (env: Record<string, string>) => nextConfig(env).experimental;

describe("Turbopack's build cache", () => {
  const scratch = mkdtempSync(join(tmpdir(), "build-cache-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("is written by next build unless the build script says skip", () => {
    expect(experimentalSettings({})).toEqual({ turbopackFileSystemCacheForBuild: true });
    expect(experimentalSettings({ NEXT_BUILD_CACHE: "write" })).toEqual({ turbopackFileSystemCacheForBuild: true });
    expect(experimentalSettings({ NEXT_BUILD_CACHE: "skip" })).toEqual({ turbopackFileSystemCacheForBuild: false });
  });

  it("is skipped on a checkout's first build, written on its rebuilds", () => {
    const fresh = join(scratch, "fresh");
    mkdirSync(fresh);
    expect(writesBuildCache(fresh)).toBe(false);
    const built = join(scratch, "built");
    mkdirSync(join(built, "dist"), { recursive: true });
    expect(writesBuildCache(built)).toBe(true);
  });
});
