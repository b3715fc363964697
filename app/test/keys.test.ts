import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_TEST_CREDENTIALS, awsKmsDouble, vaultDouble, type AwsKmsDouble, type VaultDouble } from "./kms-doubles";
import { DIST_SERVER, get, startServer, unreachableDependencies } from "./processes";

const KEYS_CLI = join(DIST_SERVER, "..", "keys.js");
const run = promisify(execFile);

const only = (env: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env });

/** Runs `node keys.js <args>` with `env` only (and PATH): stdout parsed as JSON. */
async function keys(args: string[], env: Record<string, string>): Promise<unknown> {
  const { stdout } = await run(process.execPath, [KEYS_CLI, ...args], { env: only(env) });
  return JSON.parse(stdout);
}

async function keysFailure(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    await run(process.execPath, [KEYS_CLI, ...args], { env: only(env) });
  } catch (err) {
    const e = err as { code: number; stderr: string; stdout: string };
    return { code: e.code, stderr: e.stderr, stdout: e.stdout };
  }
  throw new Error("expected the command to fail");
}

type Entry = { id: string; purpose: string; wrapped: string };

// Each test runs tools and a server of its own, and mostly waits on them: the tests of this file run
// concurrently (its three groups too).
describe.concurrent("the keys tool and the server, with the local KMS", () => {
  it("rotates a data key and the master key end to end: generate, check, rewrap, start", async () => {
    const dev = (await keys(["dev-env"], {})) as Record<string, string>;
    expect(JSON.parse(dev.FIELD_ENCRYPTION_DATA_KEYS).map((k: Entry) => k.id)).toEqual(["banking-1", "contact-1", "identity-1"]);
    expect(await keys(["check"], dev)).toMatchObject({ provider: "local", keyRef: "local:m1" });

    // Data key rotation: a new banking key, generated and wrapped by the KMS, becomes active.
    const withNew = (await keys(["generate", "--purpose", "banking", "--id", "banking-2"], dev)) as Entry[];
    expect(withNew.map((k) => k.id)).toEqual(["banking-1", "contact-1", "identity-1", "banking-2"]);
    const env2 = { ...dev, FIELD_ENCRYPTION_DATA_KEYS: JSON.stringify(withNew) };
    expect(await keys(["check"], env2)).toMatchObject({ purposes: { banking: { active: "banking-2", keys: ["banking-1", "banking-2"] } } });

    // Master key rotation: rewrap everything under m2, then m1 can go.
    const m2 = `m2:${randomBytes(32).toString("base64")}`;
    const rewrapped = (await keys(["rewrap"], { ...env2, FIELD_ENCRYPTION_LOCAL_MASTER_KEYS: `${dev.FIELD_ENCRYPTION_LOCAL_MASTER_KEYS},${m2}` })) as Entry[];
    expect(rewrapped.map((k) => k.wrapped.split(".").slice(0, 2).join("."))).toEqual(Array(4).fill("local1.m2"));
    const env3 = { ...env2, FIELD_ENCRYPTION_LOCAL_MASTER_KEYS: m2, FIELD_ENCRYPTION_DATA_KEYS: JSON.stringify(rewrapped) };
    expect(await keys(["check"], env3)).toMatchObject({ keyRef: "local:m2" });
    const stale = await keysFailure(["check"], { ...env3, FIELD_ENCRYPTION_DATA_KEYS: env2.FIELD_ENCRYPTION_DATA_KEYS });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('unknown local master key \\"m1\\"');

    const server = await startServer({ ...(await unreachableDependencies()), ...env3 });
    try {
      expect((await get(server.port, "/api/health")).status).toBe(200);
      expect(server.logs().find((l) => l.msg === "field encryption ready")).toMatchObject({ keyRef: "local:m2", purposes: { banking: { active: "banking-2" } } });
    } finally {
      await server.stop();
    }
  });

  it("fails the server's start on a bad data key, naming it, never printing key material", async () => {
    const dev = (await keys(["dev-env"], {})) as Record<string, string>;
    const entries = JSON.parse(dev.FIELD_ENCRYPTION_DATA_KEYS) as Entry[];
    const [, masterB64] = dev.FIELD_ENCRYPTION_LOCAL_MASTER_KEYS.split(":");
    // Another master key's wrapping of contact-1: well formed, but not this KMS's.
    const other = (await keys(["dev-env"], {})) as Record<string, string>;
    const foreign = (JSON.parse(other.FIELD_ENCRYPTION_DATA_KEYS) as Entry[]).find((k) => k.id === "contact-1")!;
    const bad = entries.map((k) => (k.id === "contact-1" ? { ...k, wrapped: foreign.wrapped } : k));
    const error = await startServer({ ...dev, FIELD_ENCRYPTION_DATA_KEYS: JSON.stringify(bad) }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(error).toMatch(/server exited with 1 before listening/);
    expect(error).toMatch(/"msg":"data key unwrap failed".*"dataKeyId":"contact-1"/);
    expect(error).not.toContain(masterB64);
    expect(error).not.toContain(foreign.wrapped.split(".")[2]);
  });

  it("refuses raw keys and a missing KMS at start-up", async () => {
    const raw = await startServer({ FIELD_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}` }).catch((e: Error) => e.message);
    expect(raw).toMatch(/FIELD_ENCRYPTION_KEYS \(raw keys\) is no longer read/);
    const none = await startServer({ FIELD_ENCRYPTION_KMS: "" }).catch((e: Error) => e.message);
    expect(none).toMatch(/FIELD_ENCRYPTION_KMS is not set/);
  });
});

describe.concurrent("the server with AWS KMS (the SDK as shipped in dist/) against a double", () => {
  let double: AwsKmsDouble;
  beforeAll(async () => {
    double = await awsKmsDouble();
  });
  afterAll(() => double.close());

  it("generates wrapped keys with the tool, then unwraps them at start-up through the SDK", async () => {
    const arn = double.createKey();
    const env = {
      FIELD_ENCRYPTION_KMS: "aws-kms",
      FIELD_ENCRYPTION_KMS_KEY: arn,
      FIELD_ENCRYPTION_KMS_ENDPOINT: double.endpoint,
      AWS_REGION: double.region,
      AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: "true",
    };
    let dataKeys: Entry[] = [];
    for (const purpose of ["banking", "contact", "identity"]) {
      dataKeys = (await keys(["generate", "--purpose", purpose, "--id", `${purpose}-1`], { ...env, FIELD_ENCRYPTION_DATA_KEYS: dataKeys.length ? JSON.stringify(dataKeys) : "" })) as Entry[];
    }
    const server = await startServer({ ...(await unreachableDependencies()), ...env, FIELD_ENCRYPTION_DATA_KEYS: JSON.stringify(dataKeys) });
    try {
      expect(server.logs().filter((l) => l.msg === "data key unwrapped").map((l) => [l.kms, l.keyRef, l.dataKeyId]).sort()).toEqual([
        ["aws-kms", arn, "banking-1"],
        ["aws-kms", arn, "contact-1"],
        ["aws-kms", arn, "identity-1"],
      ]);
      const decrypts = double.audit.filter((a) => a.operation === "Decrypt" && a.ok);
      expect(decrypts.map((a) => a.context?.dataKeyId).sort()).toEqual(["banking-1", "contact-1", "identity-1"]);
    } finally {
      await server.stop();
    }
  });
});

describe.concurrent("the server with Vault Transit against a double", () => {
  let vault: VaultDouble;
  beforeAll(async () => {
    vault = await vaultDouble();
    vault.createKey("diaspomoney-fields");
  });
  afterAll(() => vault.close());

  it("logs in with its projected token, unwraps every key at start-up, and keeps serving", async () => {
    const jwtFile = join(tmpdir(), `vault-token-${process.pid}`);
    writeFileSync(jwtFile, vault.kubernetes.jwt);
    const env = { FIELD_ENCRYPTION_KMS: "vault-transit", FIELD_ENCRYPTION_KMS_KEY: "diaspomoney-fields", VAULT_ADDR: vault.address, VAULT_K8S_ROLE: "web", VAULT_K8S_TOKEN_FILE: jwtFile };
    let dataKeys: Entry[] = [];
    for (const purpose of ["banking", "contact", "identity"]) {
      dataKeys = (await keys(["generate", "--purpose", purpose, "--id", `${purpose}-1`], { ...env, FIELD_ENCRYPTION_DATA_KEYS: dataKeys.length ? JSON.stringify(dataKeys) : "" })) as Entry[];
    }
    expect(dataKeys.every((k) => k.wrapped.startsWith("vault:v1:"))).toBe(true);
    const server = await startServer({ ...(await unreachableDependencies()), ...env, FIELD_ENCRYPTION_DATA_KEYS: JSON.stringify(dataKeys) });
    try {
      expect(server.logs().filter((l) => l.msg === "data key unwrapped").map((l) => l.dataKeyId).sort()).toEqual(["banking-1", "contact-1", "identity-1"]);
      expect((await get(server.port, "/")).status).toBe(200);
      // The token and the projected JWT never reach the logs.
      expect(server.lines.join("\n")).not.toContain(vault.kubernetes.jwt.split(".")[1]);
    } finally {
      await server.stop();
    }
  });
});
