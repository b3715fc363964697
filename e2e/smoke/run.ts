// `npx tsx e2e/smoke/run.ts [--no-policy] [--keep]`: proves the e2e engine end to end. Builds the
// engine (or reuses its cache), starts a local control plane, and drives the real CLI through the
// smoke project's whole life, on a copy of it in a temporary directory: login, stack init, up,
// preview --expect-no-changes, destroy, stack rm, with the platform's policy pack (advisory in dev:
// its findings on this tiny program are printed, not fatal). Checks on the API server that the
// objects appear and then go. Exit 0 when all passed.
//   --no-policy   run without the policy pack
//   --keep        keep the work directory (cluster logs, state) even on success

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startControlPlane, type ControlPlane } from "../controlplane";
import { buildEngine, engineEnv } from "../engine";

const repo = path.resolve(__dirname, "..", "..");
const policyPack = path.join(repo, "policy");
const stack = "smoke";

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const withPolicy = !args.has("--no-policy");
  const timings: [string, number][] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    const result = await fn();
    timings.push([step, (Date.now() - start) / 1000]);
    return result;
  };

  const engine = await timed("build engine", () => buildEngine());
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "dm-e2e-smoke-"));
  console.log(`work directory: ${work}`);
  if (withPolicy && !fs.existsSync(path.join(policyPack, "node_modules"))) {
    await timed("npm ci --prefix policy", () => run("npm", ["ci", "--prefix", policyPack, "--no-audit", "--no-fund"], { cwd: repo }));
  }

  const project = copyProject(path.join(work, "project"));
  let cp: ControlPlane | undefined;
  let ok = false;
  try {
    cp = await timed("start control plane", () => startControlPlane({ binDir: engine.binDir, workDir: path.join(work, "cluster") }));
    console.log(`control plane: ${cp.server} (logs in ${cp.logDir})`);
    const env = engineEnv({ cacheDir: engine.dir, stateDir: path.join(work, "state") });
    const pulumi = (step: string, ...argv: string[]) =>
      timed(step, () => run(engine.pulumi, [...argv, "--non-interactive"], { cwd: project, env }));
    const policy = withPolicy
      ? ["--policy-pack", policyPack, "--policy-pack-config", path.join(policyPack, "config", "dev.json")]
      : [];

    await pulumi("login", "login", env.PULUMI_BACKEND_URL!);
    await pulumi("stack init", "stack", "init", stack);
    await pulumi("config", "config", "set", "--stack", stack, "kubeconfig", cp.kubeconfig);
    await pulumi("config", "config", "set", "--stack", stack, "context", cp.context);
    await pulumi("up", "up", "--stack", stack, "--yes", "--skip-preview", ...policy);
    await expectStatus(cp, "/api/v1/namespaces/dm-e2e-smoke", 200, "the Namespace after up");
    const outputs = JSON.parse(await runCapture(engine.pulumi, ["stack", "output", "--stack", stack, "--json", "--show-secrets"], { cwd: project, env }));
    if (outputs.passwordLength !== 24 || String(outputs.passwordValue).length !== 24) {
      throw new Error(`unexpected stack outputs: ${JSON.stringify({ ...outputs, passwordValue: "<redacted>" })}`);
    }
    await expectStatus(cp, `/api/v1/namespaces/dm-e2e-smoke/configmaps/${outputs.configMapName}`, 200, "the ConfigMap after up");
    await pulumi("preview --expect-no-changes", "preview", "--stack", stack, "--expect-no-changes", ...policy);
    // Destroy returns once the Namespace is gone, which takes the namespace controller: this is the
    // controller manager at work.
    await pulumi("destroy", "destroy", "--stack", stack, "--yes", "--skip-preview");
    await expectStatus(cp, "/api/v1/namespaces/dm-e2e-smoke", 404, "the Namespace after destroy");
    await pulumi("stack rm", "stack", "rm", stack, "--yes");
    ok = true;
  } finally {
    if (cp) await timed("stop control plane", () => cp!.stop());
    console.log("\nbuild times (when built):\n" + engine.buildTimes);
    console.log("steps:");
    for (const [step, seconds] of timings) console.log(`  ${step.padEnd(30)} ${seconds.toFixed(1)}s`);
    if (ok && !args.has("--keep")) fs.rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
  console.log("\nsmoke: PASS");
}

/** A copy of the project in the work directory, so that the CLI's per-stack files (Pulumi.smoke.yaml
 * with the passphrase salt and the kubeconfig path) never land in the repository. Its node_modules is
 * a link to the repository's; its package.json only names it (the SDK reads the nearest one). */
function copyProject(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(__dirname, f), path.join(dir, f));
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "dm-e2e-smoke", private: true }) + "\n");
  return dir;
}

async function expectStatus(cp: ControlPlane, apiPath: string, status: number, what: string): Promise<void> {
  const res = await cp.get(apiPath);
  if (res.status !== status) throw new Error(`${what}: GET ${apiPath} answered ${res.status}, expected ${status}\n${res.body}`);
  console.log(`ok: ${what} (GET ${apiPath} -> ${status})`);
}

interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command with its output on ours; rejects on a non-zero exit. */
function run(cmd: string, argv: string[], opts: RunOptions): Promise<void> {
  console.log(`\n$ ${path.basename(cmd)} ${argv.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} ${argv[0]} exited ${code}`))));
  });
}

/** Runs a command and returns its standard output. */
function runCapture(cmd: string, argv: string[], opts: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} ${argv[0]} exited ${code}`))));
  });
}

main().catch((err) => {
  console.error(`\nsmoke: FAIL\n${err instanceof Error ? err.stack ?? err.message : err}`);
  process.exit(1);
});
