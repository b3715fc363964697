// The hash of everything a build depends on: dist/ is stale when it differs from dist/.inputs-hash.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const INPUTS = ["src", "public", "next.config.mjs", "package.json", "tsconfig.json", "tsconfig.server.json", "scripts/build.mjs", "scripts/emit-server.mjs", "scripts/tsc.mjs", "scripts/assemble.mjs", "../package-lock.json"];

export function inputsHash(appDir) {
  const hash = createHash("sha256");
  const add = (path) => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return;
    }
    if (stat.isDirectory()) for (const name of readdirSync(path).sort()) add(join(path, name));
    else hash.update(relative(appDir, path)).update("\0").update(readFileSync(path)).update("\0");
  };
  for (const input of INPUTS) add(join(appDir, input));
  return hash.digest("hex");
}
