import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findSecretLeaks, SecretLeakError, writeArtefacts } from "../../infra/plan/artefacts";
import { generatedSecrets, PLACEHOLDER_PREFIX } from "../../infra/plan/run";
import { cachedGeneratedSecrets, cachedPlan, planProgram, stackConfig, STACKS } from "../harness";
import { sampleProgram } from "./sample";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-secrets-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Writes the artefacts of the stack's plan under `dir`, with what its mock providers generated. */
async function planAndWrite(stack: string, dir: string) {
  const plan = await cachedPlan(stack);
  const generated = await cachedGeneratedSecrets(stack);
  writeArtefacts(plan, dir, generated);
  return { plan, generated, files: filesUnder(dir) };
}

describe.each(STACKS)("the artefacts of %s", (stack) => {
  it("contain no secret config placeholder and no generated secret", async () => {
    const dir = path.join(scratch, stack);
    const { generated, files } = await planAndWrite(stack, dir);
    // The check has something to find: the stack's config holds secure values.
    expect(Object.values(stackConfig(stack).values).some((v) => v.includes(PLACEHOLDER_PREFIX))).toBe(true);
    expect(files.map((f) => path.relative(dir, f))).toEqual(expect.arrayContaining(["plan.json", "graph.mmd", path.join("manifests", "cluster.yaml")]));
    for (const file of files) {
      const text = fs.readFileSync(file, "utf8");
      expect(text, file).not.toContain("offline-placeholder");
      for (const g of generated) expect(text.includes(g), `${file} holds a generated secret`).toBe(false);
    }
  });
});

describe("the artefact secret check", () => {
  it("sees the passwords the mock providers generated", async () => {
    await planProgram("dev", sampleProgram());
    const generated = generatedSecrets();
    // RandomPassword: the result (32 characters, as asked) and its bcrypt hash.
    expect(generated.some((g) => g.length === 32)).toBe(true);
    expect(generated.some((g) => g.startsWith("$2a$10$"))).toBe(true);
  });

  it("refuses a plan that unwraps a generated password, and writes nothing", async () => {
    const plan = await planProgram("dev", sampleProgram({ leakPassword: true }));
    const generated = generatedSecrets();
    const dir = path.join(scratch, "leak");
    expect(() => writeArtefacts(plan, dir, generated)).toThrow(SecretLeakError);
    expect(fs.existsSync(dir)).toBe(false);
    try {
      writeArtefacts(plan, dir, generated);
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain("plan.json: generated secret #");
      expect(message).toContain(path.join("manifests", "shop.yaml"));
      for (const g of generated) expect(message).not.toContain(g);
    }
  });

  it("finds a config placeholder that escaped masking", () => {
    const leaks = findSecretLeaks([{ path: "graph.mmd", content: `x ${PLACEHOLDER_PREFIX}diaspomoney-platform-sentryDsn y` }], []);
    expect(leaks).toEqual([{ path: "graph.mmd", what: `the placeholder of secret config ${PLACEHOLDER_PREFIX}diaspomoney-platform-sentryDsn` }]);
    expect(findSecretLeaks([{ path: "plan.json", content: '{"stringData":"[secret]"}' }], ["s3cretValue"])).toEqual([]);
  });
});
