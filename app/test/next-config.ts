/** next.config.mjs as a production process with only `env` (and PATH) reads it. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const appDir = join(__dirname, "..");

/** The config's settings under `env`, as JSON (the config holds no functions). */
export function nextConfig(env: Record<string, string>): { typescript: unknown; experimental: unknown } {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", 'console.log(JSON.stringify((await import("./next.config.mjs")).default))'], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
    encoding: "utf8",
  });
  return JSON.parse(out);
}
