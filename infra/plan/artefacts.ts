// What `npm run plan` writes, as a list of reporters: each turns the plan into files. Another check or
// report (the policy evaluation, for one) is one more entry in `reporters`. Everything is rendered in
// memory and checked for secrets and credentials before the first byte is written, then written all at
// once (out-folder.ts), so a failure writes nothing.
import * as path from "node:path";
import { credentialKinds } from "../config/credentials";
import { renderGraph } from "./graph";
import { renderManifests } from "./manifests";
import { commitArtefacts, INDEX_FILE, type Artefact } from "./out-folder";
import { leakedPlaceholders, PLACEHOLDER_PREFIX, type Plan } from "./run";

export type { Artefact } from "./out-folder";

export interface Reporter {
  /** What the reporter produces, for messages. */
  name: string;
  render(plan: Plan): Artefact[];
}

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

/** Where a secret or a credential would appear: the file, the line when known, what it is (never its value). */
export interface Leak {
  path: string;
  line?: number;
  what: string;
}

export class SecretLeakError extends Error {
  constructor(readonly leaks: Leak[]) {
    super(
      `Refusing to write the plan: ${leaks.length} secret${leaks.length === 1 ? "" : "s"} or credential${leaks.length === 1 ? "" : "s"} would appear in the artefacts:\n` +
        leaks.map((l) => `  - ${l.path}${l.line ? `:${l.line}` : ""}: ${l.what}`).join("\n") +
        "\nPass secrets as Pulumi secrets (pulumi.secret, config.requireSecret) and into Kubernetes Secrets only;" +
        " a credential in plain config (a URL with a password, an access key, a token) belongs in a secret key (`pulumi config set --secret`).",
    );
    this.name = "SecretLeakError";
  }
}

/** The first line (1-based) of `text` on which `kind` is found, if the credential fits on one line. */
function lineOf(text: string, kind: string): number | undefined {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => credentialKinds(l).includes(kind));
  return i < 0 ? undefined : i + 1;
}

/**
 * Where a secret value appears in `artefacts`: a config placeholder (any value starting with
 * {@link PLACEHOLDER_PREFIX}), one of `generated` (what the mock providers generated as secrets), or
 * anything shaped like a credential (`credentialKinds`: a URL with a password, a cloud access key, a
 * private key, a token, a webhook URL), which plain config let through. Described, never printed.
 */
export function findSecretLeaks(artefacts: Artefact[], generated: string[]): Leak[] {
  const leaks: Leak[] = [];
  for (const a of artefacts) {
    for (const p of leakedPlaceholders(a.content)) leaks.push({ path: a.path, what: `the placeholder of secret config ${p}` });
    generated.forEach((g, i) => {
      if (a.content.includes(g)) leaks.push({ path: a.path, what: `generated secret #${i + 1} (a RandomPassword result or similar)` });
    });
    for (const kind of credentialKinds(a.content)) leaks.push({ path: a.path, line: lineOf(a.content, kind), what: kind });
  }
  return leaks;
}

/**
 * Renders every reporter's files, refuses them if a secret or a credential leaks into one, then writes
 * them under `dir` all at once, replacing (and removing) only what an earlier run wrote there.
 */
export function writeArtefacts(plan: Plan, dir: string, generated: string[], list: Reporter[] = reporters): string[] {
  const artefacts = list.flatMap((r) => r.render(plan));
  const leaks = findSecretLeaks(artefacts, generated);
  if (leaks.length) throw new SecretLeakError(leaks);
  return commitArtefacts(dir, artefacts, INDEX_FILE);
}
