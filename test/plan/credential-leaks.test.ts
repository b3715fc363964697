/**
 * The check before `npm run plan` writes anything also refuses credential shapes (a URL with a
 * password, a cloud access key, a private key, a token, a webhook URL) that plain config let through:
 * the file, the line and the kind are named, the value never.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { STACK_NAMES } from "../../stacks";
import { findSecretLeaks, reporters, SecretLeakError, writeArtefacts } from "../../infra/plan/artefacts";
import { generatedSecrets } from "../../infra/plan/run";
import { cachedGeneratedSecrets, cachedPlan, planProgram, STACKS } from "../harness";
import { sampleProgram } from "./sample";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "credential-leaks-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

// Shapes as secret scanners know them; none is a live credential (AWS's documented example key among them).
const CREDENTIALS: [string, string][] = [
  ["a URL with a user and password", "amqps://alerts:hunter2hunter2@mq.example.com/vhost"],
  ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE"],
  ["a private key", "-----BEGIN RSA PRIVATE KEY-----"],
  ["a Slack webhook URL", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"],
  ["a GitHub token", `ghp_${"a1B2c3D4e5".repeat(4)}`],
];

describe("credential shapes in the artefacts", () => {
  it.each(CREDENTIALS)("finds %s, with its file and line, never its value", (kind, value) => {
    const content = `first: line\nendpoint: ${value}\nlast: line\n`;
    const leaks = findSecretLeaks([{ path: path.join("manifests", "shop.yaml"), content }], []);
    expect(leaks).toEqual([{ path: path.join("manifests", "shop.yaml"), line: 2, what: kind }]);
    expect(new SecretLeakError(leaks).message).toContain(`  - ${path.join("manifests", "shop.yaml")}:2: ${kind}\n`);
    expect(new SecretLeakError(leaks).message).not.toContain(value);
  });

  it("lets through what only resembles one: hosts, URLs without a password, digests, CIDRs, masked secrets", () => {
    const content = [
      "url: https://app.diaspomoney.fr/api/health",
      "broker: kafka-0.kafka.diaspomoney-dev-infra.svc:9093",
      "mongodb: mongodb://db-0.db-svc.diaspomoney-dev-infra.svc:27017/?replicaSet=db&tls=true",
      "user-only: https://deploy@git.example.com/repo",
      "image: ghcr.io/diaspomoney/web@sha256:0f4b2a6f3a1de7d0a1f9c4c1d7e9b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3",
      "cidr: 173.245.48.0/20",
      'data: {"MONGODB_URI": "[secret]"}',
    ].join("\n");
    expect(findSecretLeaks([{ path: "plan.json", content }], [])).toEqual([]);
  });

  it("refuses a plan whose manifests and plan.json would carry one, and writes nothing", async () => {
    const plan = structuredClone(await planProgram("dev", sampleProgram()));
    const configMap = plan.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!;
    (configMap.inputs as { data: Record<string, string> }).data.ALERT_URL = CREDENTIALS[0][1];
    const dir = path.join(scratch, "leak");
    let error: unknown;
    try {
      writeArtefacts(plan, dir, generatedSecrets(), reporters);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecretLeakError);
    const leaks = (error as SecretLeakError).leaks.filter((l) => l.what === CREDENTIALS[0][0]);
    expect(leaks.map((l) => l.path).sort()).toEqual([path.join("manifests", "shop.yaml"), "plan.json"]);
    for (const l of leaks) expect(l.line).toBeGreaterThan(1);
    expect((error as Error).message).not.toContain("hunter2");
    expect(fs.existsSync(dir)).toBe(false);
  });
});

// dev, rct and prod are written, and so checked, by secrets.test.ts; the other stacks here.
describe.each(STACK_NAMES.filter((s) => !(STACKS as readonly string[]).includes(s)))("the artefacts of %s", (stack) => {
  it("hold no credential shape: the check refuses none of the committed stacks", async () => {
    const plan = await cachedPlan(stack);
    expect(findSecretLeaks(reporters.flatMap((r) => r.render(plan)), await cachedGeneratedSecrets(stack))).toEqual([]);
  });
});
