// `npm run e2e [-- --kubeconfig FILE --context NAME] [--only nonprod|prod]`: the platform under the real
// engine. Builds (or reuses) the Pulumi CLI, its plugins and a Kubernetes control plane from their Go
// modules (e2e/engine/), then drives `pulumi up / preview / destroy` of the real stacks against the API
// server, on working copies of their configs with only the overrides a control plane without nodes,
// charts or cloud accounts needs (see `overrides` below). Every check is named in the output; the last
// line is `N passed, M failed`; the Markdown report with the CLI's own output is out/e2e/report.md.
//
// With --kubeconfig/--context, the scenarios run against that cluster instead of local control planes
// (it must be disposable: the stacks are created and destroyed there).

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { packConfigFor } from "../policy/policies";
import { startControlPlane, type ControlPlane } from "./controlplane";
import { buildEngine, engineEnv, type Engine } from "./engine";
import { KubeClient, type KubeObject } from "./kube";

const repo = path.resolve(__dirname, "..");
const outDir = path.join(repo, "out", "e2e");
const crdDirectory = process.env.DM_E2E_CRDS ?? path.resolve(repo, "..", "shared", "upstream", "crds");
const PROJECT = "diaspomoney-platform";

// ---------------------------------------------------------------------------------------------------
// Checks, phases and the report

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  seconds: number;
}

const checks: Check[] = [];
const phases: [string, number][] = [];
const transcript: string[] = [];

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    phases.push([name, (Date.now() - start) / 1000]);
  }
}

/** Runs one named check: a thrown error is its failure, with the error's message as the detail. */
async function check(name: string, fn: () => Promise<string | void>): Promise<boolean> {
  const start = Date.now();
  let ok = true;
  let detail = "";
  try {
    detail = (await fn()) ?? "";
  } catch (err) {
    ok = false;
    detail = err instanceof Error ? err.message : String(err);
  }
  const seconds = (Date.now() - start) / 1000;
  checks.push({ name, ok, detail, seconds });
  console.log(`${ok ? "PASS" : "FAIL"}  ${name} (${seconds.toFixed(1)} s)${detail ? `\n      ${detail.split("\n").join("\n      ")}` : ""}`);
  return ok;
}

function writeReport(engine: Engine | undefined): void {
  const passed = checks.filter((c) => c.ok).length;
  const lines = [
    "# e2e: the platform under the real Pulumi CLI and a real kube-apiserver",
    "",
    `${passed} passed, ${checks.length - passed} failed`,
    "",
    "| Check | Result | Time | Detail |",
    "|---|---|---|---|",
    ...checks.map((c) => `| ${c.name} | ${c.ok ? "pass" : "**FAIL**"} | ${c.seconds.toFixed(1)} s | ${c.detail.replace(/\n/g, "<br>").replace(/\|/g, "\\|").slice(0, 2000)} |`),
    "",
    "## Phases",
    "",
    "| Phase | Time |",
    "|---|---|",
    ...phases.map(([p, s]) => `| ${p} | ${s.toFixed(1)} s |`),
    "",
    ...(engine ? ["## Engine build times (when built)", "", "```", engine.buildTimes.trim(), "```", ""] : []),
    "## The CLI's output",
    "",
    ...transcript,
  ];
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "report.md"), `${lines.join("\n")}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The real CLI

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

class Cli {
  constructor(
    private readonly engine: Engine,
    private readonly project: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /** `quiet`: the output holds secrets' values, it stays out of the report. */
  run(argv: string[], opts: { allowFailure?: boolean; timeoutMs?: number; quiet?: boolean } = {}): Promise<CliResult> {
    const shown = `pulumi ${argv.join(" ")}`;
    return new Promise((resolve, reject) => {
      const child = spawn(this.engine.pulumi, [...argv, "--non-interactive"], { cwd: this.project, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 20 * 60_000);
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
        const shownOutput = opts.quiet ? "(output not shown: it holds secrets' values)" : redact(`${stdout}${stderr}`).trim().slice(-20_000);
        transcript.push(`### \`${shown}\` → exit ${result.code}`, "", "```", shownOutput, "```", "");
        if (result.code !== 0 && !opts.allowFailure) {
          reject(new Error(`\`${shown}\` exited ${result.code}${signal ? ` (${signal})` : ""}:\n${failureLines(`${stdout}\n${stderr}`)}`));
        } else resolve(result);
      });
    });
  }
}

const secretsSeen = new Set<string>();
function redact(text: string): string {
  let out = text;
  for (const s of secretsSeen) out = out.split(s).join("[e2e-secret]");
  return out;
}

/** What the CLI said of a failure: its diagnostics (error and policy lines, with the resource they
 * name) when there are any, else the last lines. */
function failureLines(text: string): string {
  const lines = redact(text).split("\n");
  const start = lines.findIndex((l) => /^Diagnostics:|^Policies:|^Policy Violations:/.test(l.trim()));
  const diagnostics = start >= 0 ? lines.slice(start).filter((l) => l.trim() && !/^\s*(Outputs|Resources):/.test(l)) : [];
  const errors = lines.filter((l) => /\berror\b|\bmandatory\b|refused|failed/i.test(l));
  const picked = diagnostics.length ? diagnostics.slice(0, 40) : errors.length ? errors.slice(0, 40) : lastLines(text, 25).split("\n");
  return picked.join("\n");
}

function lastLines(text: string, n: number): string {
  return redact(text)
    .split("\n")
    .filter((l) => l.trim() && !/^\s*(\+|~|-)?\s*$/.test(l))
    .slice(-n)
    .join("\n");
}

// ---------------------------------------------------------------------------------------------------
// The working project and the stacks' config overrides

/**
 * A copy of the program (infra/, components/, stacks/, index.ts...) in the work directory, whose
 * node_modules is the repository's: the CLI writes its per-stack files there, never in the repository,
 * and a scenario may change a stack file of the copy.
 */
function copyProject(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of ["Pulumi.yaml", "index.ts", "tsconfig.json", "package.json", "infra", "components", "stacks", "policy"]) {
    // The program reads the pack's control metadata; the pack itself runs from the repository.
    fs.cpSync(path.join(repo, entry), path.join(dir, entry), { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
  }
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

type Overrides = Record<string, unknown>;

/**
 * The only changes made to a stack's committed config: the cluster it runs on (the local control
 * plane), readiness not awaited (nothing runs without a kubelet), Cloudflare and Atlas off, and the
 * cluster's controllers provided externally (no chart or image can be fetched here), its CRDs read
 * from the local copy of the upstream files.
 */
function overrides(stack: string, cluster: { context: string; identifier: string }): Overrides {
  const kubernetes = (base: Record<string, unknown>) => ({ ...base, context: cluster.context, clusterIdentifier: cluster.identifier, awaitReadiness: false });
  if (stack.startsWith("cluster-")) {
    return { kubernetes, services: "external", crds: { directory: crdDirectory }, autoscaler: { mode: "platform" } };
  }
  return { kubernetes, integrations: { cloudflare: false, atlas: false } };
}

/** Writes `Pulumi.<stack>.yaml` in the working project: the committed file with `overrides`, its `secure:` values left out (they are set anew). */
function writeStackConfig(project: string, stack: string, over: Overrides): string[] {
  const doc = YAML.parse(fs.readFileSync(path.join(repo, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const config: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value && typeof value === "object" && "secure" in (value as object)) secretKeys.push(key.replace(`${PROJECT}:`, ""));
    else config[key] = value;
  }
  for (const [key, value] of Object.entries(over)) {
    const full = `${PROJECT}:${key}`;
    config[full] = typeof value === "function" ? (value as (b: Record<string, unknown>) => unknown)((config[full] ?? {}) as Record<string, unknown>) : value;
  }
  fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), YAML.stringify({ config }));
  return secretKeys;
}

/** A test value for a secret key, shaped as the key expects (URLs for URLs). */
function testSecret(key: string): string {
  const token = randomBytes(18).toString("base64url");
  const value = /url|dsn/i.test(key) ? `https://e2e-${token.toLowerCase().replace(/[^a-z0-9]/g, "")}.invalid/hook` : `e2e-${token}`;
  secretsSeen.add(value);
  return value;
}

/** The policy pack's config for what is deployed here: the stack's tier, the integrations turned off. */
function packConfigFile(stack: string): string {
  const committed = JSON.parse(fs.readFileSync(path.join(repo, "policy", "config", `${stack}.json`), "utf8")) as Record<string, Record<string, unknown>>;
  const tier = stack === "prod" || stack === "cluster-prod" ? "production" : stack === "dev" ? "development" : "acceptance";
  const effective = packConfigFor({ tier, features: { atlas: false, waf: false, manageZone: false }, clusterLayer: stack.startsWith("cluster-") });
  for (const [name, c] of Object.entries(effective)) {
    if (committed[name] && typeof c === "object") Object.assign(c, { enforcementLevel: committed[name].enforcementLevel });
  }
  const file = path.join(outDir, "policy-config", `${stack}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(effective, null, 2));
  return file;
}

// ---------------------------------------------------------------------------------------------------
// One cluster: a control plane (or the user's context), a state backend, stacks

interface Site {
  name: string;
  /** kubeconfig context of the cluster the stacks deploy to. */
  context: string;
  cli: Cli;
  kube: KubeClient;
  project: string;
  stop(): Promise<void>;
}

async function openSite(name: string, engine: Engine, external?: { kubeconfig: string; context: string }): Promise<Site> {
  const work = path.join(outDir, "work", name);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  let cp: ControlPlane | undefined;
  let target = external;
  if (!target) {
    cp = await phase(`${name}: start control plane`, () => startControlPlane({ binDir: engine.binDir, workDir: path.join(work, "cluster") }));
    target = { kubeconfig: cp.kubeconfig, context: cp.context };
  }
  const project = copyProject(path.join(work, "project"));
  const cli = new Cli(engine, project, engineEnv({ cacheDir: engine.dir, stateDir: path.join(work, "state"), kubeconfig: target.kubeconfig }));
  await cli.run(["login", cli.env.PULUMI_BACKEND_URL!]);
  return { name, context: target.context, cli, kube: new KubeClient(target.kubeconfig, target.context), project, stop: async () => cp?.stop() };
}

async function initStack(site: Site, stack: string): Promise<void> {
  const secrets = writeStackConfig(site.project, stack, overrides(stack, { context: site.context, identifier: `e2e-${site.name}` }));
  await site.cli.run(["stack", "init", stack, "--secrets-provider", "passphrase"]);
  for (const key of secrets) {
    await site.cli.run(["config", "set", "--stack", stack, "--secret", `${PROJECT}:${key}`, testSecret(key)]);
  }
}

function policyArgs(stack: string): string[] {
  return ["--policy-pack", path.join(repo, "policy"), "--policy-pack-config", packConfigFile(stack)];
}

async function up(site: Site, stack: string): Promise<CliResult> {
  return phase(`${site.name}: up ${stack}`, () => site.cli.run(["up", "--stack", stack, "--yes", "--skip-preview", ...policyArgs(stack)]));
}

async function previewNoChange(site: Site, stack: string): Promise<string> {
  const r = await site.cli.run(["preview", "--stack", stack, "--expect-no-changes", "--diff", ...policyArgs(stack)], { allowFailure: true });
  if (r.code !== 0) throw new Error(`stack ${stack}: preview shows changes or failed:\n${lastLines(r.stdout + r.stderr, 30)}`);
  return "no change";
}

interface StackState {
  resources: { urn: string; type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown>; protect?: boolean; retainOnDelete?: boolean; parent?: string }[];
}

async function exportStack(site: Site, stack: string): Promise<StackState> {
  // With the secrets' values: the objects are sent to the API server as declared (never printed).
  const r = await site.cli.run(["stack", "export", "--stack", stack, "--show-secrets"], { quiet: true });
  return JSON.parse(r.stdout).deployment as StackState;
}

/** The state's secret marker (the engine's `sig.Secret`): `{ <SIG>: SECRET_SIG, plaintext: "<JSON>" }` once exported with --show-secrets. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A state value with its secrets unwrapped to their plain values. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) {
      if (typeof o.plaintext !== "string") throw new Error("a secret of the state has no plaintext: export it with --show-secrets");
      return unwrapSecrets(JSON.parse(o.plaintext));
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** The Kubernetes objects a stack's state holds, as declared (the provider's inputs). */
function declaredObjects(state: StackState): { urn: string; obj: KubeObject }[] {
  return state.resources
    .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm") && !r.type.startsWith("kubernetes:yaml") && !r.type.startsWith("pulumi:"))
    .map((r) => {
      const obj = unwrapSecrets({ ...(r.inputs ?? {}) }) as KubeObject;
      delete (obj as Record<string, unknown>).__inputs;
      return { urn: r.urn, obj };
    })
    .filter(({ obj }) => obj.apiVersion && obj.kind && obj.metadata?.name);
}

// ---------------------------------------------------------------------------------------------------
// What the API server says

async function strictlyAccepted(site: Site, stack: string): Promise<string> {
  const state = await exportStack(site, stack);
  const objects = declaredObjects(state);
  if (objects.length === 0) throw new Error(`stack ${stack}: no Kubernetes object in its state`);
  const refused: string[] = [];
  for (const { urn, obj } of objects) {
    const problem = await site.kube.strictDryRunApply(obj).catch((e: Error) => e.message);
    if (problem) refused.push(`${urn.split("::").pop()} (${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}): ${problem}`);
  }
  if (refused.length) throw new Error(`stack ${stack}: the API server refuses ${refused.length} of ${objects.length} objects with strict field validation:\n${refused.join("\n")}`);
  return `${objects.length} objects accepted with fieldValidation=Strict`;
}

/** Every Deployment, StatefulSet and Job of `namespaces` has pods created, and no FailedCreate event was recorded. */
async function podsAdmitted(site: Site, namespaces: string[]): Promise<string> {
  const deadline = Date.now() + 120_000;
  let missing: string[] = [];
  let failures: string[] = [];
  let workloads = 0;
  do {
    missing = [];
    failures = [];
    workloads = 0;
    for (const ns of namespaces) {
      const pods = await site.kube.list(`/api/v1/namespaces/${ns}/pods`);
      const owned = (kind: string, name: string) =>
        pods.filter((p) => ((p.metadata as { ownerReferences?: { kind: string; name: string }[] }).ownerReferences ?? []).some((o) => o.kind === kind && (o.name === name || o.name.startsWith(`${name}-`)))).length;
      for (const d of await site.kube.list(`/apis/apps/v1/namespaces/${ns}/deployments`)) {
        workloads++;
        const want = (d.spec as { replicas?: number }).replicas ?? 1;
        const rsPods = (await site.kube.list(`/apis/apps/v1/namespaces/${ns}/replicasets`))
          .filter((rs) => ((rs.metadata as { ownerReferences?: { name: string }[] }).ownerReferences ?? []).some((o) => o.name === d.metadata.name))
          .reduce((n, rs) => n + owned("ReplicaSet", rs.metadata.name), 0);
        if (rsPods < want) missing.push(`Deployment ${ns}/${d.metadata.name}: ${rsPods} of ${want} pods created`);
      }
      for (const s of await site.kube.list(`/apis/apps/v1/namespaces/${ns}/statefulsets`)) {
        workloads++;
        // Without a kubelet no pod becomes Ready: an OrderedReady StatefulSet stops after its first pod.
        if (owned("StatefulSet", s.metadata.name) < 1) missing.push(`StatefulSet ${ns}/${s.metadata.name}: no pod created`);
      }
      for (const j of await site.kube.list(`/apis/batch/v1/namespaces/${ns}/jobs`)) {
        workloads++;
        if (owned("Job", j.metadata.name) < 1) missing.push(`Job ${ns}/${j.metadata.name}: no pod created`);
      }
      for (const e of await site.kube.list(`/api/v1/namespaces/${ns}/events`)) {
        const ev = e as unknown as { reason?: string; message?: string; involvedObject?: { kind: string; name: string } };
        if (ev.reason === "FailedCreate") failures.push(`${ev.involvedObject?.kind} ${ns}/${ev.involvedObject?.name}: ${ev.message}`);
      }
    }
    if (missing.length === 0 || failures.length > 0) break;
    await new Promise((r) => setTimeout(r, 3000));
  } while (Date.now() < deadline);
  if (workloads === 0) throw new Error(`no Deployment, StatefulSet or Job in ${namespaces.join(", ")}`);
  if (failures.length || missing.length) throw new Error([...failures, ...missing].join("\n"));
  return `${workloads} workloads in ${namespaces.join(", ")}: every pod created and admitted (Pod Security, ResourceQuota, LimitRange)`;
}

/** uid and resourceVersion of every object of `namespaces` and of the given cluster-scoped lists. */
async function snapshot(site: Site, namespaces: string[], clusterLists: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const lists = [
    ...namespaces.flatMap((ns) => [
      `/api/v1/namespaces/${ns}/secrets`,
      `/api/v1/namespaces/${ns}/configmaps`,
      `/api/v1/namespaces/${ns}/services`,
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
      `/apis/cert-manager.io/v1/namespaces/${ns}/certificates`,
      `/apis/kafka.strimzi.io/v1/namespaces/${ns}/kafkas`,
      `/apis/kafka.strimzi.io/v1/namespaces/${ns}/kafkatopics`,
      `/apis/psmdb.percona.com/v1/namespaces/${ns}/perconaservermongodbs`,
      `/apis/redis.redis.opstreelabs.in/v1beta2/namespaces/${ns}/redisclusters`,
    ]),
    ...namespaces.map((ns) => `/api/v1/namespaces/${ns}`),
    ...clusterLists,
  ];
  for (const l of lists) {
    const r = await site.kube.request("GET", l);
    const items: KubeObject[] = r.status === 200 ? (r.body.items ?? [r.body]) : [];
    for (const o of items) out.set(`${l}#${o.metadata.name}`, `${o.metadata.uid}@${o.metadata.resourceVersion}`);
  }
  return out;
}

function changedBetween(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [k, v] of before) if (after.get(k) !== v) changed.push(`${k}: ${v} -> ${after.get(k) ?? "gone"}`);
  return changed;
}

/** Finalizers the operators own: with no operator running here, nothing else would ever remove them. */
const OPERATOR_FINALIZERS = /^(percona\.com|psmdb\.percona\.com|strimzi\.io|redis\.opstreelabs\.in)\//;
const OPERATOR_KINDS = [
  "apis/psmdb.percona.com/v1/namespaces/%s/perconaservermongodbs",
  "apis/psmdb.percona.com/v1/namespaces/%s/perconaservermongodbbackups",
  "apis/kafka.strimzi.io/v1/namespaces/%s/kafkas",
  "apis/kafka.strimzi.io/v1/namespaces/%s/kafkanodepools",
  "apis/kafka.strimzi.io/v1/namespaces/%s/kafkatopics",
  "apis/kafka.strimzi.io/v1/namespaces/%s/kafkausers",
  "apis/redis.redis.opstreelabs.in/v1beta2/namespaces/%s/redisclusters",
];

/**
 * Stands in for the operators during a destroy: when an object they own is being deleted, removes
 * their finalizers (what the operator does once it has finished, here with nothing to finish: no pod
 * runs). Only finalizers of the operators, only on objects already being deleted. Returns a stop
 * function that gives what it removed.
 */
function operatorStandIn(site: Site, namespaces: string[]): () => Promise<string[]> {
  const removed: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const ns of namespaces) {
        for (const list of OPERATOR_KINDS) {
          const r = await site.kube.request("GET", `/${list.replace("%s", ns)}`).catch(() => undefined);
          for (const o of (r?.status === 200 ? r.body.items : []) as KubeObject[]) {
            const meta = o.metadata as KubeObject["metadata"] & { deletionTimestamp?: string; finalizers?: string[] };
            const owned = (meta.finalizers ?? []).filter((f) => OPERATOR_FINALIZERS.test(f));
            if (!meta.deletionTimestamp || owned.length === 0) continue;
            const keep = (meta.finalizers ?? []).filter((f) => !OPERATOR_FINALIZERS.test(f));
            const patched = await site.kube.request("PATCH", `/${list.replace("%s", ns)}/${meta.name}`, { metadata: { finalizers: keep.length ? keep : null } }, "application/merge-patch+json");
            if (patched.status === 200) removed.push(`${o.kind} ${ns}/${meta.name}: ${owned.join(", ")}`);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return removed;
  };
}

interface PreviewStep {
  op: string;
  urn: string;
}

async function previewSteps(site: Site, stack: string): Promise<PreviewStep[]> {
  const r = await site.cli.run(["preview", "--stack", stack, "--json"]);
  return (JSON.parse(r.stdout).steps ?? []) as PreviewStep[];
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

const CLUSTER_LISTS = [
  "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
  "/apis/cert-manager.io/v1/clusterissuers",
  "/apis/cert-manager.io/v1/namespaces/cert-manager/certificates",
  "/apis/cert-manager.io/v1/namespaces/cert-manager/issuers",
  "/api/v1/namespaces/cert-manager",
];

async function nonprod(engine: Engine, external?: { kubeconfig: string; context: string }): Promise<void> {
  const site = await openSite("nonprod", engine, external);
  try {
    for (const stack of ["cluster-nonprod", "dev", "rct"]) await initStack(site, stack);
    if (!(await check("nonprod: cluster-nonprod up (policy pack enforced)", async () => void (await up(site, "cluster-nonprod"))))) return;
    await check("nonprod: CRDs applied protected and retained, from the local CRD directory", async () => {
      const state = await exportStack(site, "cluster-nonprod");
      const crds = state.resources.filter((r) => r.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition");
      if (crds.length === 0) throw new Error("stack cluster-nonprod: no CustomResourceDefinition in its state");
      const loose = crds.filter((r) => !r.protect || !r.retainOnDelete).map((r) => r.urn.split("::").pop());
      if (loose.length) throw new Error(`stack cluster-nonprod: CRDs not protected and retained: ${loose.join(", ")}`);
      return `${crds.length} CRDs, each protect + retainOnDelete`;
    });
    const devUp = await check("nonprod: dev up on the cluster stack (policy pack enforced)", async () => void (await up(site, "dev")));
    const rctUp = await check("nonprod: rct up on the same control plane (policy pack enforced)", async () => void (await up(site, "rct")));
    for (const stack of ["dev", "rct"]) {
      const ok = stack === "dev" ? devUp : rctUp;
      if (!ok) continue;
      await check(`nonprod: ${stack}: every object accepted with strict field validation`, () => strictlyAccepted(site, stack));
      await check(`nonprod: ${stack}: every Deployment, StatefulSet and Job gets its pods (no FailedCreate)`, () =>
        podsAdmitted(site, [`diaspomoney-${stack}`, `diaspomoney-${stack}-infra`]),
      );
    }
    for (const stack of ["cluster-nonprod", "dev", "rct"]) {
      await check(`nonprod: ${stack}: a second preview shows no change`, () => previewNoChange(site, stack));
    }
    if (devUp) {
      await check("nonprod: dev: a replica count and a Secret's value change in place", async () => {
        const file = path.join(site.project, "stacks", "dev.ts");
        const source = fs.readFileSync(file, "utf8");
        const changed = source.replace(/(app: \{\s*replicas: )3,/, "$14,");
        if (changed === source) throw new Error("stacks/dev.ts: app.replicas 3 not found in the working copy");
        fs.writeFileSync(file, changed);
        await site.cli.run(["config", "set", "--stack", "dev", "--secret", `${PROJECT}:sentryDsn`, testSecret("sentryDsn")]);
        const steps = (await previewSteps(site, "dev")).filter((s) => s.op !== "same");
        const replaced = steps.filter((s) => /replace|delete/.test(s.op));
        if (replaced.length) throw new Error(`stack dev: the change replaces or deletes:\n${replaced.map((s) => `${s.op} ${s.urn}`).join("\n")}`);
        const updated = steps.filter((s) => s.op === "update").map((s) => s.urn.split("::").pop());
        if (!updated.some((u) => /sentry/.test(u ?? ""))) throw new Error(`stack dev: the sentry Secret is not updated in place (updates: ${updated.join(", ")})`);
        await up(site, "dev");
        return `updated in place: ${updated.join(", ")}`;
      });
      await check("nonprod: dev destroy finishes in time and leaves rct and the cluster stack untouched", async () => {
        const before = await snapshot(site, ["diaspomoney-rct", "diaspomoney-rct-infra"], CLUSTER_LISTS);
        const start = Date.now();
        const standIn = operatorStandIn(site, ["diaspomoney-dev", "diaspomoney-dev-infra"]);
        let finalized: string[] = [];
        try {
          await site.cli.run(["destroy", "--stack", "dev", "--yes", "--skip-preview"], { timeoutMs: 10 * 60_000 });
        } finally {
          finalized = await standIn();
        }
        const seconds = (Date.now() - start) / 1000;
        const after = await snapshot(site, ["diaspomoney-rct", "diaspomoney-rct-infra"], CLUSTER_LISTS);
        const changed = changedBetween(before, after);
        if (changed.length) throw new Error(`destroying dev changed ${changed.length} objects of rct or the cluster stack:\n${changed.slice(0, 20).join("\n")}`);
        const gone = await site.kube.request("GET", "/api/v1/namespaces/diaspomoney-dev");
        if (gone.status !== 404) throw new Error(`namespace diaspomoney-dev still there after destroy (${gone.status})`);
        return `destroyed in ${seconds.toFixed(0)} s; ${before.size} objects of rct and the cluster stack unchanged; operator finalizers stood in for: ${finalized.join("; ") || "none"}`;
      });
      if (rctUp) await check("nonprod: rct: preview after dev's destroy shows no change", () => previewNoChange(site, "rct"));
    }
  } finally {
    await phase("nonprod: stop control plane", () => site.stop());
  }
}

async function freshRct(engine: Engine): Promise<void> {
  const site = await openSite("nonprod-fresh", engine);
  try {
    for (const stack of ["cluster-nonprod", "rct"]) await initStack(site, stack);
    await check("fresh: rct refuses to deploy before its cluster stack, naming it", async () => {
      const r = await site.cli.run(["preview", "--stack", "rct"], { allowFailure: true });
      if (r.code === 0) throw new Error("stack rct: preview succeeded without the cluster stack");
      const text = r.stdout + r.stderr;
      if (!/cannot deploy on cluster stack "cluster-nonprod"/.test(text)) throw new Error(`stack rct: not the contract error:\n${lastLines(text, 15)}`);
      return "refused: cannot deploy on cluster stack \"cluster-nonprod\"";
    });
    if (await check("fresh: cluster-nonprod up on a fresh control plane", async () => void (await up(site, "cluster-nonprod")))) {
      await check("fresh: rct up with only the cluster stack (no dev)", async () => void (await up(site, "rct")));
    }
  } finally {
    await phase("nonprod-fresh: stop control plane", () => site.stop());
  }
}

async function prod(engine: Engine): Promise<void> {
  const site = await openSite("prod", engine);
  try {
    for (const stack of ["cluster-prod", "prod"]) await initStack(site, stack);
    if (!(await check("prod: cluster-prod up (policy pack enforced)", async () => void (await up(site, "cluster-prod"))))) return;
    if (!(await check("prod: prod up on cluster-prod (policy pack enforced)", async () => void (await up(site, "prod"))))) return;
    await check("prod: every object accepted with strict field validation", () => strictlyAccepted(site, "prod"));
    await check("prod: every Deployment, StatefulSet and Job gets its pods (no FailedCreate)", () => podsAdmitted(site, ["diaspomoney-prod", "diaspomoney-prod-infra"]));
    for (const stack of ["cluster-prod", "prod"]) await check(`prod: ${stack}: a second preview shows no change`, () => previewNoChange(site, stack));
  } finally {
    await phase("prod: stop control plane", () => site.stop());
  }
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = flag("--only");
  const kubeconfig = flag("--kubeconfig");
  const context = flag("--context");
  if ((kubeconfig === undefined) !== (context === undefined)) throw new Error("--kubeconfig and --context go together");
  const external = kubeconfig && context ? { kubeconfig: path.resolve(kubeconfig), context } : undefined;

  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const start = Date.now();
  let engine: Engine | undefined;
  try {
    engine = await phase("build engine (Go)", () => buildEngine());
    if (!fs.existsSync(path.join(repo, "policy", "node_modules"))) {
      await phase("npm ci --prefix policy", () => exec("npm", ["ci", "--prefix", path.join(repo, "policy"), "--no-audit", "--no-fund"]));
    }
    if (!fs.existsSync(crdDirectory)) throw new Error(`no CRD directory at ${crdDirectory} (set DM_E2E_CRDS)`);
    if (only !== "prod") await nonprod(engine, external);
    if (only !== "prod" && !external) await freshRct(engine);
    if (only !== "nonprod" && !external) await prod(engine);
  } catch (err) {
    checks.push({ name: "e2e harness", ok: false, detail: err instanceof Error ? err.message : String(err), seconds: 0 });
  } finally {
    writeReport(engine);
  }
  console.log("\nphases:");
  for (const [p, s] of phases) console.log(`  ${p.padEnd(48)} ${s.toFixed(1)} s`);
  if (engine) console.log(`\nengine build times (when built):\n${engine.buildTimes.trim()}`);
  console.log(`\ntotal ${((Date.now() - start) / 1000).toFixed(0)} s; report: ${path.relative(process.cwd(), path.join(outDir, "report.md"))}`);
  const passed = checks.filter((c) => c.ok).length;
  console.log(`${passed} passed, ${checks.length - passed} failed`);
  return checks.length > 0 && passed === checks.length ? 0 : 1;
}

function exec(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repo, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`))));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
