// Builds the app unless dist/ was built from exactly the current sources (see inputs.mjs), so
// `npm test` and `npm run bench` always exercise what the image would ship, without rebuilding
// on every run.
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inputsHash } from "./inputs.mjs";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
let built = "";
try {
  built = readFileSync(join(appDir, "dist", ".inputs-hash"), "utf8");
} catch {
  // no build yet
}
if (built !== inputsHash(appDir)) {
  // On stderr: the commands that follow (keys.js) print their result on stdout.
  console.error("dist/ is missing or stale: building");
  try {
    execSync("npm run build", { cwd: appDir, stdio: ["ignore", process.stderr, process.stderr] });
  } catch (err) {
    // The build has said what failed; its exit code is enough here.
    process.exit(err.status ?? 1);
  }
}
