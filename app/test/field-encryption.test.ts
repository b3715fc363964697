import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsKms } from "../src/lib/field-encryption/aws-kms";
import { bucketFor, checkDataKey, open, parseToken, seal, type DataKey } from "../src/lib/field-encryption/cipher";
import { createFieldEncryption, type FieldEncryption, type FieldRegistry, type WrappedDataKey } from "../src/lib/field-encryption/envelope";
import { ENCRYPTED_FIELDS, FieldEncryptionError, fieldEncryptionFromEnv, KmsError, kmsFromEnv, parseDataKeys } from "../src/lib/field-encryption";
import type { Kms } from "../src/lib/field-encryption/kms";
import { LocalKms, parseLocalMasterKeys } from "../src/lib/field-encryption/local-kms";
import { VaultTransitKms } from "../src/lib/field-encryption/vault-transit";
import { createLogger } from "../src/lib/log";
import { AWS_TEST_CREDENTIALS, awsKmsDouble, vaultDouble, type AwsKmsDouble, type VaultDouble } from "./kms-doubles";

const key = (id: string, purpose = "banking"): DataKey => ({ id, purpose, key: randomBytes(32) });
const alice = { collection: "users", field: "iban", recordId: "665f1c2e9b1d4a0012345678" };
const bob = { ...alice, recordId: "665f1c2e9b1d4a0087654321" };
const IBAN = "FR7630006000011234567890189";

/** Flips one bit at byte `index` of a token's payload. */
function flip(token: string, index: number): string {
  const [v, id, payload] = token.split(".");
  const bytes = Buffer.from(payload, "base64url");
  bytes[index] ^= 0x01;
  return `${v}.${id}.${bytes.toString("base64url")}`;
}

function captureLogs() {
  const lines: string[] = [];
  return { lines, log: createLogger("field-encryption", (l) => void lines.push(l)), records: () => lines.map((l) => JSON.parse(l)) };
}

/** A local KMS with one fresh master key and wrapped data keys for the given ids/purposes. */
async function localSetup(specs: [id: string, purpose: string][], master = randomBytes(32)) {
  const kms = new LocalKms(new Map([["m1", master]]));
  const dataKeys: WrappedDataKey[] = [];
  for (const [id, purpose] of specs) dataKeys.push({ id, purpose, wrapped: await kms.generateDataKey({ keyId: id, purpose }) });
  return { kms, dataKeys, master };
}

const allPurposes: [string, string][] = [
  ["banking-1", "banking"],
  ["contact-1", "contact"],
  ["identity-1", "identity"],
];

async function loaded(kms: Kms, dataKeys: WrappedDataKey[], extra: Partial<Parameters<typeof createFieldEncryption>[0]> = {}): Promise<FieldEncryption> {
  const fe = createFieldEncryption({ kms, dataKeys, fields: ENCRYPTED_FIELDS, log: createLogger("test", () => undefined), ...extra });
  await fe.load();
  return fe;
}

describe("sealing one value (AES-256-GCM under a data key)", () => {
  const k1 = key("banking-1");

  it("round-trips any string, the empty one and non-ASCII included, and never repeats a token", () => {
    for (const value of [IBAN, "", "Aïssatou Ndiaye 🇸🇳", "x".repeat(10_000)]) expect(open(k1, parseToken(seal(k1, value, alice)), alice)).toBe(value);
    expect(seal(k1, IBAN, alice)).not.toBe(seal(k1, IBAN, alice));
    expect(seal(k1, IBAN, alice)).not.toContain("FR76");
  });

  it("binds the token to its record: another user's record does not decrypt it", () => {
    const token = seal(k1, IBAN, alice);
    expect(open(k1, parseToken(token), alice)).toBe(IBAN);
    expect(() => open(k1, parseToken(token), bob)).toThrow(/failed authentication/);
  });

  it("binds the token to its collection and field", () => {
    const token = seal(k1, IBAN, alice);
    expect(() => open(k1, parseToken(token), { ...alice, collection: "beneficiaries" })).toThrow(/failed authentication/);
    expect(() => open(k1, parseToken(token), { ...alice, field: "phone" })).toThrow(/failed authentication/);
  });

  it("requires every part of the context, structured", () => {
    const bad: unknown[] = [undefined, "users.iban", { collection: "users", field: "iban" }, { ...alice, recordId: "" }, { ...alice, recordId: "a b" }, { ...alice, collection: "" }, { ...alice, field: "iban..x" }, { ...alice, recordId: 42 }];
    for (const ctx of bad) expect(() => seal(k1, IBAN, ctx as typeof alice), JSON.stringify(ctx)).toThrow(FieldEncryptionError);
    expect(seal(k1, IBAN, { collection: "users", field: "kyc.document.number", recordId: "0f8e2a9c-5b1d-4e3f-9a7b-2c6d8e0f1a2b" })).toMatch(/^fle2\./);
  });

  it("rejects a tampered IV, ciphertext or tag", () => {
    const token = seal(k1, IBAN, alice);
    const length = Buffer.from(token.split(".")[2], "base64url").length;
    for (const index of [0, 11, 12, 40, length - 17, length - 16, length - 1]) {
      expect(() => open(k1, parseToken(flip(token, index)), alice), `byte ${index}`).toThrow(/failed authentication/);
    }
  });

  it("rejects the right token under the wrong key of the same id", () => {
    const token = seal(k1, IBAN, alice);
    expect(() => open({ ...k1, key: randomBytes(32) }, parseToken(token), alice)).toThrow(/failed authentication/);
  });

  it("pads to buckets: every IBAN (15 to 34 characters) gives a token of one length", () => {
    const lengths = new Set<number>();
    for (let n = 15; n <= 34; n++) lengths.add(seal(k1, "FR".padEnd(n, "7"), alice).length);
    expect([...lengths]).toHaveLength(1);
    expect([bucketFor(0), bucketFor(63), bucketFor(64), bucketFor(127), bucketFor(128)]).toEqual([64, 64, 128, 128, 256]);
    expect(seal(k1, "x".repeat(63), alice).length).toBeLessThan(seal(k1, "x".repeat(64), alice).length);
    expect(() => seal(k1, "x".repeat(65_536), alice)).toThrow(/too long/);
  });

  it("accepts only canonical tokens: strict alphabet, no padding, no stray bits, bucket lengths", () => {
    const token = seal(k1, IBAN, alice);
    const [v, id, payload] = token.split(".");
    const bytes = Buffer.from(payload, "base64url");
    const nonCanonical = [
      `${token}=`,
      `${v}.${id}.${payload.slice(0, 10)}*${payload.slice(10)}`, // junk character (Buffer's decoder would skip it)
      `${v}.${id}.${payload.slice(0, 10)} ${payload.slice(10)}`,
      `${v}.${id}.${bytes.toString("base64")}`, // standard alphabet
      `${v}.${id}.${payload.slice(0, -1)}${String.fromCharCode(payload.charCodeAt(payload.length - 1) + 1)}`, // stray low bits
      `${v}.${id}.${Buffer.concat([bytes, Buffer.alloc(3)]).toString("base64url")}`, // not a bucket length
      `${v}.${id}.${bytes.subarray(0, 50).toString("base64url")}`,
      `${v}.${id}.${payload}.x`,
      `fle1.${id}.${payload}`,
      `${v}.bad id.${payload}`,
    ];
    expect(parseToken(token).keyId).toBe("banking-1");
    for (const t of nonCanonical) expect(() => parseToken(t), t).toThrow(FieldEncryptionError);
  });

  it("checks data keys: length, all zero, one repeated byte, non-random", () => {
    expect(() => checkDataKey(key("banking-1"))).not.toThrow();
    const cases: [Buffer, RegExp][] = [
      [randomBytes(16), /16 bytes, AES-256 needs 32/],
      [Buffer.alloc(32), /all zero/],
      [Buffer.alloc(32, 7), /one repeated byte/],
      [Buffer.from("abcdabcdabcdabcdabcdabcdabcdabcd"), /does not look random/],
    ];
    for (const [material, message] of cases) expect(() => checkDataKey({ id: "k", purpose: "banking", key: material })).toThrow(message);
  });
});

describe("envelope encryption (local KMS)", () => {
  it("unwraps every data key at load, then encrypts per purpose and decrypts by record", async () => {
    const { kms, dataKeys } = await localSetup(allPurposes);
    const fe = await loaded(kms, dataKeys);
    const token = await fe.encrypt(IBAN, alice);
    expect(fe.keyIdOf(token)).toBe("banking-1");
    expect(await fe.decrypt(token, alice)).toBe(IBAN);
    expect(fe.keyIdOf(await fe.encrypt("+221771234567", { collection: "users", field: "phone", recordId: alice.recordId }))).toBe("contact-1");
    expect(fe.describe()).toEqual({
      provider: "local",
      keyRef: "local:m1",
      purposes: { banking: { active: "banking-1", keys: ["banking-1"] }, contact: { active: "contact-1", keys: ["contact-1"] }, identity: { active: "identity-1", keys: ["identity-1"] } },
    });
  });

  it("moves no token between records, fields or purposes", async () => {
    const { kms, dataKeys } = await localSetup(allPurposes);
    const fe = await loaded(kms, dataKeys);
    const aliceIban = await fe.encrypt(IBAN, alice);
    await expect(fe.decrypt(aliceIban, bob)).rejects.toThrow(/failed authentication/);
    await expect(fe.decrypt(aliceIban, { ...alice, collection: "beneficiaries" })).rejects.toThrow(/failed authentication/);
    const phone = await fe.encrypt("+221771234567", { ...alice, field: "phone" });
    await expect(fe.decrypt(phone, alice)).rejects.toThrow(/contact-1 protects contact, not users.iban/);
    await expect(fe.encrypt(IBAN, { ...alice, field: "nickname" })).rejects.toThrow(/users.nickname is not a registered encrypted field/);
    await expect(fe.decrypt(aliceIban, { collection: "users", field: "iban" } as typeof alice)).rejects.toThrow(/recordId/);
  });

  it("keeps a blind index per field for exact lookups, equal for equal normalised values only", async () => {
    const { kms, dataKeys } = await localSetup(allPurposes);
    const fe = await loaded(kms, dataKeys);
    const ref = { collection: "users", field: "iban" };
    const a = await fe.blindIndex("FR76 3000 6000 0112 3456 7890 189", ref);
    expect(a).toMatch(/^bix1\.banking-1\.[A-Za-z0-9_-]{43}$/);
    expect(await fe.blindIndex("fr7630006000011234567890189", ref)).toBe(a);
    expect(await fe.blindIndex("FR7630006000011234567890190", ref)).not.toBe(a);
    expect(await fe.blindIndex(IBAN, { collection: "beneficiaries", field: "iban" })).not.toBe(a);
    await expect(fe.blindIndex("passport", { collection: "users", field: "identityDocument" })).rejects.toThrow(/has no blind index/);
  });

  it("fails the load on a wrapped key it cannot unwrap, naming the key, not its content", async () => {
    const { kms, dataKeys } = await localSetup(allPurposes);
    const other = (await localSetup([["banking-1", "banking"]])).dataKeys[0];
    const capture = captureLogs();
    const fe = createFieldEncryption({ kms, dataKeys: [other, ...dataKeys.slice(1)], fields: ENCRYPTED_FIELDS, log: capture.log });
    await expect(fe.load()).rejects.toThrow(KmsError);
    const failure = capture.records().find((r) => r.msg === "data key unwrap failed");
    expect(failure).toMatchObject({ dataKeyId: "banking-1", purpose: "banking", kms: "local", code: "InvalidCiphertext" });
    expect(capture.lines.join("\n")).not.toContain(other.wrapped.split(".")[2]);
  });

  it("fails the load when a wrapped key is relabelled as another purpose's key", async () => {
    const { kms, dataKeys } = await localSetup(allPurposes);
    const relabelled = dataKeys.map((k) => (k.id === "contact-1" ? { ...k, wrapped: dataKeys[0].wrapped } : k));
    await expect(loaded(kms, relabelled)).rejects.toThrow(/wrapped key failed authentication/);
  });

  it("fails the load when two ids are the same key, or a purpose has no key", async () => {
    const kms = new LocalKms(new Map([["m1", randomBytes(32)]]));
    const material = randomBytes(32);
    const twinKms: Kms = { provider: "local", keyRef: "twin", generateDataKey: async () => "", rewrap: async () => "", unwrap: async () => Buffer.from(material) };
    const entries = allPurposes.map(([id, purpose]) => ({ id, purpose, wrapped: `w-${id}` }));
    await expect(loaded(twinKms, entries)).rejects.toThrow(/data keys banking-1 and contact-1 are the same key/);
    const { dataKeys } = await localSetup(allPurposes.slice(0, 2));
    await expect(loaded(kms, dataKeys)).rejects.toThrow(/no data key for purpose "identity" \(field users.identityDocument\)/);
  });

  it("refuses an all-zero key from the KMS at load", async () => {
    const zero: Kms = { provider: "local", keyRef: "zero", generateDataKey: async () => "", rewrap: async () => "", unwrap: async () => Buffer.alloc(32) };
    await expect(loaded(zero, allPurposes.map(([id, purpose]) => ({ id, purpose, wrapped: `w-${id}` })))).rejects.toThrow(/all zero/);
  });

  it("logs each unwrap with its key id and check value, never key material", async () => {
    const { kms, dataKeys, master } = await localSetup(allPurposes);
    const capture = captureLogs();
    const keys: Buffer[] = [];
    const spy: Kms = { provider: kms.provider, keyRef: kms.keyRef, generateDataKey: (b) => kms.generateDataKey(b), rewrap: (w, b) => kms.rewrap(w, b), unwrap: async (w, b) => (keys.push(await kms.unwrap(w, b)), keys[keys.length - 1]) };
    const fe = await loaded(spy, dataKeys, { log: capture.log });
    await fe.encrypt(IBAN, alice);
    const unwraps = capture.records().filter((r) => r.msg === "data key unwrapped");
    expect(unwraps.map((r) => r.dataKeyId).sort()).toEqual(["banking-1", "contact-1", "identity-1"]);
    expect(unwraps[0]).toMatchObject({ kms: "local", keyRef: "local:m1", kcv: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const text = capture.lines.join("\n");
    for (const k of [...keys, master]) for (const enc of ["base64", "base64url", "hex"] as const) expect(text).not.toContain(k.toString(enc).slice(0, 16));
  });

  it("bounds the unwrap cache in age and size, and counts each key's use", async () => {
    const { kms, dataKeys } = await localSetup([...allPurposes, ["banking-2", "banking"]]);
    let t = 0;
    let unwraps = 0;
    const counting: Kms = { provider: "local", keyRef: kms.keyRef, generateDataKey: (b) => kms.generateDataKey(b), rewrap: (w, b) => kms.rewrap(w, b), unwrap: (w, b) => (unwraps++, kms.unwrap(w, b)) };
    const uses: string[] = [];
    const fe = await loaded(counting, dataKeys, { now: () => t, cache: { ttlMs: 1000, maxEntries: 2 }, onUse: (u) => uses.push(`${u.operation}:${u.keyId}:${u.ok}`) });
    expect(unwraps).toBe(4);
    const token = await fe.encrypt(IBAN, alice); // banking-2, the active key, kept by the cache
    await fe.decrypt(token, alice);
    expect(unwraps).toBe(4);
    t += 1000; // expired: unwrapped again
    await fe.decrypt(token, alice);
    expect(unwraps).toBe(5);
    // Two more keys in use push banking-2 out of a cache of two.
    await fe.encrypt("+221771234567", { ...alice, field: "phone" });
    await fe.encrypt("AB123456", { ...alice, field: "identityDocument" });
    await fe.decrypt(token, alice);
    expect(unwraps).toBe(8);
    expect(uses.filter((u) => u.startsWith("encrypt:") || u.startsWith("decrypt:"))).toEqual([
      "encrypt:banking-2:true",
      "decrypt:banking-2:true",
      "decrypt:banking-2:true",
      "encrypt:contact-1:true",
      "encrypt:identity-1:true",
      "decrypt:banking-2:true",
    ]);
  });

  it("keeps using a key for a bounded time when the KMS is down after the cache time", async () => {
    const { kms, dataKeys } = await localSetup(allPurposes);
    let t = 0;
    let down = false;
    const flaky: Kms = { provider: "local", keyRef: kms.keyRef, generateDataKey: (b) => kms.generateDataKey(b), rewrap: (w, b) => kms.rewrap(w, b), unwrap: (w, b) => (down ? Promise.reject(new KmsError("down", "timeout")) : kms.unwrap(w, b)) };
    const fe = await loaded(flaky, dataKeys, { now: () => t, cache: { ttlMs: 1000, staleIfErrorMs: 500 } });
    const token = await fe.encrypt(IBAN, alice);
    down = true;
    t = 1400;
    expect(await fe.decrypt(token, alice)).toBe(IBAN);
    t = 1500;
    await expect(fe.decrypt(token, alice)).rejects.toThrow(/down/);
  });
});

describe("rotation, end to end", () => {
  it("data keys: a new key encrypts, old tokens decrypt and are flagged, rotate, then the old key leaves", async () => {
    const kms = new LocalKms(new Map([["m1", randomBytes(32)]]));
    const entry = async (id: string, purpose: string) => ({ id, purpose, wrapped: await kms.generateDataKey({ keyId: id, purpose }) });
    const v1 = [await entry("banking-1", "banking"), await entry("contact-1", "contact"), await entry("identity-1", "identity")];
    const before = await loaded(kms, v1);
    const old = await before.encrypt(IBAN, alice);
    const oldIndex = await before.blindIndex(IBAN, alice);

    const v2 = [...v1, await entry("banking-2", "banking")];
    const during = await loaded(kms, v2);
    expect(await during.decrypt(old, alice)).toBe(IBAN);
    expect(during.needsRotation(old)).toBe(true);
    // A lookup during the rotation matches rows indexed under either key.
    expect(await during.blindIndexCandidates(IBAN, alice)).toEqual([await during.blindIndex(IBAN, alice), oldIndex]);
    const fresh = await during.rotate(old, alice);
    expect([during.keyIdOf(fresh), during.needsRotation(fresh)]).toEqual(["banking-2", false]);

    const after = await loaded(kms, v2.filter((k) => k.id !== "banking-1"));
    expect(await after.decrypt(fresh, alice)).toBe(IBAN);
    await expect(after.decrypt(old, alice)).rejects.toThrow(/unknown data key id "banking-1"/);
  });

  it("master key (local): rewrap under a new master, drop the old one; stored tokens are untouched", async () => {
    const m1 = randomBytes(32);
    const { kms, dataKeys } = await localSetup(allPurposes, m1);
    const token = await (await loaded(kms, dataKeys)).encrypt(IBAN, alice);
    const m2 = randomBytes(32);
    const both = new LocalKms(new Map([["m1", m1], ["m2", m2]]));
    const rewrapped = await Promise.all(dataKeys.map(async (k) => ({ ...k, wrapped: await both.rewrap(k.wrapped, { keyId: k.id, purpose: k.purpose }) })));
    expect(rewrapped.every((k) => k.wrapped.startsWith("local1.m2."))).toBe(true);
    const m2only = new LocalKms(new Map([["m2", m2]]));
    expect(await (await loaded(m2only, rewrapped)).decrypt(token, alice)).toBe(IBAN);
    await expect(loaded(m2only, dataKeys)).rejects.toThrow(/unknown local master key "m1"/);
  });
});

describe("AWS KMS through @aws-sdk/client-kms, against a double on 127.0.0.1", () => {
  let double: AwsKmsDouble;
  beforeAll(async () => {
    double = await awsKmsDouble();
  });
  afterAll(() => double.close());

  const client = (credentials = AWS_TEST_CREDENTIALS) => new KMSClient({ region: double.region, endpoint: double.endpoint, credentials, maxAttempts: 1 });
  const aws = (keyId: string, c = client()) => new AwsKms({ keyId, region: double.region, client: c });

  it("generates wrapped data keys inside KMS and unwraps them with the binding as encryption context", async () => {
    const arn = double.createKey();
    const kms = aws(arn);
    const dataKeys = await Promise.all(allPurposes.map(async ([id, purpose]) => ({ id, purpose, wrapped: await kms.generateDataKey({ keyId: id, purpose }) })));
    expect(dataKeys[0].wrapped).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const fe = await loaded(kms, dataKeys);
    expect(await fe.decrypt(await fe.encrypt(IBAN, alice), alice)).toBe(IBAN);
    // The KMS's own log (CloudTrail) shows which data key each Decrypt was for.
    const decrypts = double.audit.filter((a) => a.operation === "Decrypt" && a.keyId === arn);
    expect(decrypts.map((a) => a.context)).toEqual(
      expect.arrayContaining([
        { app: "diaspomoney-web", purpose: "banking", dataKeyId: "banking-1" },
        { app: "diaspomoney-web", purpose: "identity", dataKeyId: "identity-1" },
      ]),
    );
  });

  it("refuses a wrapped key relabelled with another id or purpose, and one wrapped by another KMS key", async () => {
    const arn = double.createKey();
    const kms = aws(arn);
    const wrapped = await kms.generateDataKey({ keyId: "banking-1", purpose: "banking" });
    await expect(kms.unwrap(wrapped, { keyId: "contact-1", purpose: "contact" })).rejects.toMatchObject({ code: "InvalidCiphertextException" });
    const elsewhere = await aws(double.createKey()).generateDataKey({ keyId: "banking-1", purpose: "banking" });
    await expect(kms.unwrap(elsewhere, { keyId: "banking-1", purpose: "banking" })).rejects.toMatchObject({ code: "IncorrectKeyException" });
  });

  it("signs requests (SigV4): the double refuses another secret", async () => {
    const arn = double.createKey();
    const forged = aws(arn, client({ ...AWS_TEST_CREDENTIALS, secretAccessKey: "not-the-secret" }));
    await expect(forged.generateDataKey({ keyId: "banking-1", purpose: "banking" })).rejects.toMatchObject({ code: "InvalidSignatureException" });
  });

  it("master key rotation: automatic rotation is transparent; moving to a new key is ReEncrypt, then the old key is disabled", async () => {
    const oldArn = double.createKey();
    const oldKms = aws(oldArn);
    const dataKeys = await Promise.all(allPurposes.map(async ([id, purpose]) => ({ id, purpose, wrapped: await oldKms.generateDataKey({ keyId: id, purpose }) })));
    const token = await (await loaded(oldKms, dataKeys)).encrypt(IBAN, alice);

    double.rotateKey(oldArn);
    expect(await (await loaded(oldKms, dataKeys)).decrypt(token, alice)).toBe(IBAN);

    const newArn = double.createKey();
    const newKms = aws(newArn);
    const moved = await Promise.all(dataKeys.map(async (k) => ({ ...k, wrapped: await newKms.rewrap(k.wrapped, { keyId: k.id, purpose: k.purpose }) })));
    expect(double.audit.filter((a) => a.operation === "ReEncrypt" && a.ok).map((a) => a.keyId)).toEqual([newArn, newArn, newArn]);
    // Pods configured with the new key refuse keys still wrapped by the old one.
    await expect(loaded(newKms, dataKeys)).rejects.toThrow(/IncorrectKeyException/);
    double.disableKey(oldArn);
    await expect(loaded(oldKms, dataKeys)).rejects.toThrow(/DisabledException/);
    expect(await (await loaded(newKms, moved)).decrypt(token, alice)).toBe(IBAN);
  });

  it("is reached through the environment as the pods are configured", async () => {
    const arn = double.createKey();
    const kms = kmsFromEnv({ FIELD_ENCRYPTION_KMS: "aws-kms", FIELD_ENCRYPTION_KMS_KEY: arn, AWS_REGION: double.region, FIELD_ENCRYPTION_KMS_ENDPOINT: double.endpoint });
    expect([kms.provider, kms.keyRef]).toEqual(["aws-kms", arn]);
  });
});

describe("Vault Transit over its HTTP API, against a double on 127.0.0.1", () => {
  let vault: VaultDouble;
  const jwtFile = join(tmpdir(), `vault-jwt-${process.pid}`);
  beforeAll(async () => {
    vault = await vaultDouble();
    vault.createKey("diaspomoney-fields");
    writeFileSync(jwtFile, `${vault.kubernetes.jwt}\n`);
  });
  afterAll(() => vault.close());

  const transit = () => new VaultTransitKms({ address: vault.address, key: "diaspomoney-fields", auth: { kubernetes: { role: "web", jwtFile } } });

  it("logs in with the projected service-account token, generates wrapped keys and unwraps them", async () => {
    const kms = transit();
    const dataKeys = await Promise.all(allPurposes.map(async ([id, purpose]) => ({ id, purpose, wrapped: await kms.generateDataKey({ keyId: id, purpose }) })));
    expect(dataKeys.map((k) => k.wrapped.slice(0, 9))).toEqual(["vault:v1:", "vault:v1:", "vault:v1:"]);
    const fe = await loaded(kms, dataKeys);
    expect(await fe.decrypt(await fe.encrypt(IBAN, alice), alice)).toBe(IBAN);
    expect(vault.audit.filter((a) => a.operation === "decrypt").map((a) => a.context?.dataKeyId)).toEqual(["banking-1", "contact-1", "identity-1"]);
  });

  it("refuses a wrapped key under another binding (each binding derives its own key)", async () => {
    const kms = transit();
    const wrapped = await kms.generateDataKey({ keyId: "banking-1", purpose: "banking" });
    await expect(kms.unwrap(wrapped, { keyId: "banking-1", purpose: "contact" })).rejects.toMatchObject({ code: "http-400" });
  });

  it("logs in again once after a 403 (token expired or revoked)", async () => {
    const kms = transit();
    const wrapped = await kms.generateDataKey({ keyId: "banking-1", purpose: "banking" });
    const logins = vault.logins;
    vault.revokeTokens();
    expect((await kms.unwrap(wrapped, { keyId: "banking-1", purpose: "banking" })).length).toBe(32);
    expect(vault.logins).toBe(logins + 1);
  });

  it("master key rotation: rotate the Transit key, rewrap, raise min_decryption_version", async () => {
    const kms = transit();
    const dataKeys = await Promise.all(allPurposes.map(async ([id, purpose]) => ({ id, purpose, wrapped: await kms.generateDataKey({ keyId: id, purpose }) })));
    const token = await (await loaded(kms, dataKeys)).encrypt(IBAN, alice);
    vault.rotateKey("diaspomoney-fields");
    const rewrapped = await Promise.all(dataKeys.map(async (k) => ({ ...k, wrapped: await kms.rewrap(k.wrapped, { keyId: k.id, purpose: k.purpose }) })));
    expect(rewrapped.every((k) => k.wrapped.startsWith("vault:v2:"))).toBe(true);
    vault.setMinDecryptionVersion("diaspomoney-fields", 2);
    await expect(loaded(kms, dataKeys)).rejects.toThrow(/disallowed by policy/);
    expect(await (await loaded(kms, rewrapped)).decrypt(token, alice)).toBe(IBAN);
  });
});

describe("configuration from the environment", () => {
  const b64 = randomBytes(32).toString("base64");

  it("parses wrapped data keys strictly, naming entries by position, never by content", () => {
    const ok = [{ id: "banking-1", purpose: "banking", wrapped: "local1.m1.x" }];
    expect(parseDataKeys(JSON.stringify(ok))).toEqual(ok);
    const cases: [string | undefined, RegExp][] = [
      [undefined, /FIELD_ENCRYPTION_DATA_KEYS is not set/],
      [`[{"id":"banking-1","purpose":"banking","wrapped":"${b64}"`, /not valid JSON/],
      ["[]", /non-empty JSON array/],
      [JSON.stringify([{ id: "banking-1", purpose: "banking" }]), /\[0\] must have exactly the fields/],
      [JSON.stringify([{ id: "banking-1", purpose: "banking", wrapped: b64, key: b64 }]), /\[0\] must have exactly the fields/],
      [JSON.stringify([{ id: "bank ing", purpose: "banking", wrapped: b64 }]), /\[0\]\.id/],
      [JSON.stringify([{ id: "banking-1", purpose: "Banking", wrapped: b64 }]), /\[0\]\.purpose/],
      [JSON.stringify([...ok, { ...ok[0], wrapped: b64 }]), /"banking-1" appears twice/],
      [JSON.stringify([{ ...ok[0], wrapped: b64 }, { id: "banking-2", purpose: "banking", wrapped: b64 }]), /banking-2 has the same wrapped key/],
    ];
    for (const [raw, message] of cases) {
      let error: Error | undefined;
      try {
        parseDataKeys(raw);
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message, String(message)).toMatch(message);
      expect(error!.message).not.toContain(b64);
    }
  });

  it("names the KMS and its missing settings without echoing values", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /FIELD_ENCRYPTION_KMS is not set/],
      [{ FIELD_ENCRYPTION_KMS: "gcp" }, /must be aws-kms, vault-transit or local/],
      [{ FIELD_ENCRYPTION_KMS: "aws-kms", AWS_REGION: "eu-west-3" }, /FIELD_ENCRYPTION_KMS_KEY/],
      [{ FIELD_ENCRYPTION_KMS: "vault-transit", VAULT_ADDR: "https://vault.example:8200", FIELD_ENCRYPTION_KMS_KEY: "k" }, /needs VAULT_K8S_ROLE, VAULT_TOKEN_FILE or VAULT_TOKEN/],
      [{ FIELD_ENCRYPTION_KMS: "vault-transit", VAULT_ADDR: "https://root:s3cr3t@vault.example", FIELD_ENCRYPTION_KMS_KEY: "k", VAULT_TOKEN: "hvs.x" }, /must not carry credentials/],
      [{ FIELD_ENCRYPTION_KMS: "local", FIELD_ENCRYPTION_LOCAL_MASTER_KEYS: `m1:${b64}junk*` }, /m1 is not canonical base64/],
      [{ FIELD_ENCRYPTION_KMS: "local", FIELD_ENCRYPTION_LOCAL_MASTER_KEYS: `m1:${b64},m1:${b64}` }, /appears twice/],
      [{ FIELD_ENCRYPTION_KMS: "local", FIELD_ENCRYPTION_LOCAL_MASTER_KEYS: b64 }, /entry 1 is not <id>:<base64 key>/],
    ];
    for (const [env, message] of cases) {
      let error: Error | undefined;
      try {
        kmsFromEnv(env);
      } catch (err) {
        error = err as Error;
      }
      expect(error, String(message)).toBeInstanceOf(KmsError);
      expect(error!.message).toMatch(message);
      expect(error!.message).not.toMatch(/s3cr3t|hvs\.x/);
      expect(error!.message).not.toContain(b64.slice(0, 20));
    }
    expect(parseLocalMasterKeys(`m1:${b64}`).get("m1")!.toString("base64")).toBe(b64);
  });

  it("refuses raw keys in the environment (the old FIELD_ENCRYPTION_KEYS)", () => {
    expect(() => fieldEncryptionFromEnv({ FIELD_ENCRYPTION_KEYS: `k1:${b64}` })).toThrow(/no longer read/);
  });

  it("a registry of fields whose purposes each need a key", async () => {
    const fields: FieldRegistry = { "transfers.reference": { purpose: "transfers" } };
    const { kms, dataKeys } = await localSetup([["transfers-1", "transfers"]]);
    const fe = await loaded(kms, dataKeys, { fields });
    const ctx = { collection: "transfers", field: "reference", recordId: "t-1" };
    expect(await fe.decrypt(await fe.encrypt("REF-42", ctx), ctx)).toBe("REF-42");
  });
});
