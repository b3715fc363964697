// Turns `next build`'s standalone output into dist/: the folder the image runs and the tests start.
//
// In an npm workspace Next.js traces from the repository root, so `.next/standalone` holds
// `node_modules/` (traced dependencies) and `app/` (this package). dist/ flattens that into one
// self-contained folder: server.js (our server, compiled by tsc) and its lib/, .next/ (the build,
// with the static assets Next.js leaves out of standalone), node_modules/. Then it checks that every
// package the server requires resolves from dist/, so a missing trace fails the build, not the pod.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { inputsHash } from "./inputs.mjs";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const standalone = join(appDir, ".next", "standalone");
const dist = join(appDir, "dist");
const { config } = JSON.parse(readFileSync(join(appDir, ".next", "required-server-files.json"), "utf8"));
const nested = join(standalone, relative(config.outputFileTracingRoot, appDir));

rmSync(dist, { recursive: true, force: true });
cpSync(join(standalone, "node_modules"), join(dist, "node_modules"), { recursive: true, verbatimSymlinks: true });
cpSync(join(nested, ".next"), join(dist, ".next"), { recursive: true });
cpSync(join(nested, "package.json"), join(dist, "package.json"));
cpSync(join(appDir, ".next", "static"), join(dist, ".next", "static"), { recursive: true });
if (existsSync(join(appDir, "public"))) cpSync(join(appDir, "public"), join(dist, "public"), { recursive: true });
cpSync(join(appDir, "build", "server"), dist, { recursive: true });

const missing = [];
const fromDist = createRequire(join(dist, "server.js"));
const scan = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) scan(file);
    else if (file.endsWith(".js")) {
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/require\("([^".][^"]*)"\)/g)) {
        if (spec.startsWith("node:")) continue;
        try {
          fromDist.resolve(spec);
        } catch {
          missing.push(`${relative(dist, file)} → ${spec}`);
        }
      }
    }
  }
};
scan(join(appDir, "build", "server"));
if (missing.length) {
  console.error(`dist/ cannot run: unresolved requires\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
writeFileSync(join(dist, ".inputs-hash"), inputsHash(appDir));
console.log(`assembled ${relative(process.cwd(), dist) || "."}: node dist/server.js`);
