// What `npm run plan` writes, as a list of reporters: each turns the plan into files. Another check or
// report (the policy evaluation, for one) is one more entry in `reporters`. Everything is rendered in
// memory and checked for secrets before the first byte is written, so a failure writes nothing.
import * as fs from "node:fs";
import * as path from "node:path";
import { renderGraph } from "./graph";
import { renderManifests } from "./manifests";
import { leakedPlaceholders, PLACEHOLDER_PREFIX, type Plan } from "./run";

/** A file to write, relative to the output folder. */
export interface Artefact {
  path: string;
  content: string;
}

export interface Reporter {
  /** What the reporter produces, for messages. */
  name: string;
  render(plan: Plan): Artefact[];
}

/** Sub-folders a reporter owns entirely: stale files in them are removed on each run. */
export const OWNED_FOLDERS = ["manifests"];

export const planJson: Reporter = {
  name: "plan.json",
  render: (plan) => [{ path: "plan.json", content: `${JSON.stringify(plan, null, 2)}\n` }],
};

export const manifests: Reporter = {
  name: "manifests",
  render: (plan) => [...renderManifests(plan)].map(([file, content]) => ({ path: path.join("manifests", file), content })),
};

export const graph: Reporter = {
  name: "graph.mmd",
  render: (plan) => [{ path: "graph.mmd", content: renderGraph(plan) }],
};

/** The reporters `npm run plan` runs, in order. */
export const reporters: Reporter[] = [planJson, manifests, graph];

export class SecretLeakError extends Error {
  constructor(readonly leaks: { path: string; what: string }[]) {
    super(
      `Refusing to write the plan: ${leaks.length} secret value${leaks.length === 1 ? "" : "s"} would appear in the artefacts:\n` +
        leaks.map((l) => `  - ${l.path}: ${l.what}`).join("\n") +
        "\nPass secrets as Pulumi secrets (pulumi.secret, config.requireSecret) and into Kubernetes Secrets only.",
    );
    this.name = "SecretLeakError";
  }
}

/**
 * Where a secret value appears in `artefacts`: a config placeholder (any value starting with
 * {@link PLACEHOLDER_PREFIX}) or one of `generated` (what the mock providers generated as secrets).
 * The leak is described, never printed.
 */
export function findSecretLeaks(artefacts: Artefact[], generated: string[]): { path: string; what: string }[] {
  const leaks: { path: string; what: string }[] = [];
  for (const a of artefacts) {
    for (const p of leakedPlaceholders(a.content)) leaks.push({ path: a.path, what: `the placeholder of secret config ${p}` });
    generated.forEach((g, i) => {
      if (a.content.includes(g)) leaks.push({ path: a.path, what: `generated secret #${i + 1} (a RandomPassword result or similar)` });
    });
  }
  return leaks;
}

/** Renders every reporter's files, refuses them if a secret leaks into one, then writes them under `dir`. */
export function writeArtefacts(plan: Plan, dir: string, generated: string[], list: Reporter[] = reporters): string[] {
  const artefacts = list.flatMap((r) => r.render(plan));
  const leaks = findSecretLeaks(artefacts, generated);
  if (leaks.length) throw new SecretLeakError(leaks);

  for (const folder of OWNED_FOLDERS) {
    const full = path.join(dir, folder);
    if (!fs.existsSync(full)) continue;
    for (const f of fs.readdirSync(full)) if (f.endsWith(".yaml")) fs.rmSync(path.join(full, f));
  }
  const written: string[] = [];
  for (const a of artefacts) {
    const file = path.join(dir, a.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, a.content);
    written.push(file);
  }
  return written;
}
