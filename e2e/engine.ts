// The real Pulumi engine for the e2e: `buildEngine()` builds (or finds in its cache) the binaries of
// e2e/engine/build.sh, and `engineEnv()` is the environment to run that CLI with, offline, against a
// local file backend. e2e/engine/README.md lists the versions and what stands in for what.
//
//   const engine = await buildEngine();
//   const env = engineEnv({ cacheDir: engine.dir, stateDir });
//   execFileSync("pulumi", ["stack", "init", "dev"], { cwd: project, env });

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Engine {
  /** The build's directory in the cache: ${DM_E2E_CACHE:-~/.cache/diaspomoney-e2e}/<key>. */
  dir: string;
  /** pulumi, pulumi-language-nodejs, etcd, kube-apiserver, kube-controller-manager (the resource
   * plugins are only in pulumiHome: on PATH they would shadow it). */
  binDir: string;
  /** The PULUMI_HOME the plugins are installed in (kubernetes 4.34.2, random 4.21.2). */
  pulumiHome: string;
  /** The CLI. */
  pulumi: string;
  /** Wall time of each binary's build, as build.sh printed it when it built them. */
  buildTimes: string;
}

const buildScript = path.join(__dirname, "engine", "build.sh");

/** Runs e2e/engine/build.sh: minutes the first time, a second once cached. Its progress goes to
 * `log` (stderr by default). */
export function buildEngine(opts: { log?: (chunk: string) => void } = {}): Promise<Engine> {
  const log = opts.log ?? ((chunk: string) => process.stderr.write(chunk));
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [buildScript], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", log);
    child.on("error", reject);
    child.on("exit", (code) => {
      const dir = /^DM_E2E_ENGINE=(.+)$/m.exec(stdout)?.[1];
      if (code !== 0 || !dir) {
        reject(new Error(`e2e/engine/build.sh failed (exit ${code})`));
        return;
      }
      const binDir = path.join(dir, "bin");
      resolve({
        dir,
        binDir,
        pulumiHome: path.join(dir, "pulumi-home"),
        pulumi: path.join(binDir, "pulumi"),
        buildTimes: fs.readFileSync(path.join(dir, "build-times.txt"), "utf8"),
      });
    });
  });
}

export interface EngineEnvOptions {
  /** The engine's build directory (`Engine.dir`). */
  cacheDir: string;
  /** Where this run keeps its stacks (the file backend) and its own PULUMI_HOME; created if missing. */
  stateDir: string;
  /** If set, KUBECONFIG for the CLI and its plugins; otherwise KUBECONFIG is removed, so nothing can
   * reach a cluster the program did not name explicitly. */
  kubeconfig?: string;
}

/**
 * The complete environment for the real CLI: this process's environment without any PULUMI_* or
 * KUBECONFIG variable (no access token, no other backend leaks in), plus:
 * - PATH with the engine's bin/ first (the CLI finds its language host there, and node after it);
 * - PULUMI_HOME = <stateDir>/.pulumi-home, whose `plugins` links to the engine's installed plugins:
 *   each run has its own workspace settings and credentials, the cache is only read;
 * - PULUMI_BACKEND_URL = file://<stateDir>; PULUMI_CONFIG_PASSPHRASE, random and kept in
 *   <stateDir>/.passphrase so every call for the same state agrees;
 * - the switches that keep the CLI offline and quiet (no plugin download, no update check, no
 *   registry lookup, no confirmation prompt).
 */
export function engineEnv(opts: EngineEnvOptions): NodeJS.ProcessEnv {
  const stateDir = path.resolve(opts.stateDir);
  const home = path.join(stateDir, ".pulumi-home");
  fs.mkdirSync(home, { recursive: true });
  const plugins = path.join(home, "plugins");
  const installed = path.join(path.resolve(opts.cacheDir), "pulumi-home", "plugins");
  // Re-pointed when the same state is used with another build of the engine.
  if (readLink(plugins) !== installed) {
    fs.rmSync(plugins, { force: true });
    fs.symlinkSync(installed, plugins);
  }

  const passphraseFile = path.join(stateDir, ".passphrase");
  if (!fs.existsSync(passphraseFile)) fs.writeFileSync(passphraseFile, randomBytes(24).toString("base64url"), { mode: 0o600 });

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("PULUMI_") && k !== "KUBECONFIG") env[k] = v;
  }
  return {
    ...env,
    PATH: [path.join(opts.cacheDir, "bin"), process.env.PATH].filter(Boolean).join(path.delimiter),
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: fs.readFileSync(passphraseFile, "utf8"),
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}),
  };
}

function readLink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}
