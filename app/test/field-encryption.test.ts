import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createFieldCipher, createKeyring, FieldEncryptionError, keyringFromEnv } from "../src/lib/field-encryption";

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const cipher = createFieldCipher(createKeyring({ k1 }, "k1"));

/** Flips one bit of the base64url part `index` of a token. */
function flip(token: string, index: number): string {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[index], "base64url");
  bytes[0] ^= 0x01;
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

describe("field encryption (AES-256-GCM)", () => {
  it("round-trips any string, the empty one and non-ASCII included", () => {
    for (const value of ["FR76 3000 6000 0112 3456 7890 189", "", "Aïssatou Ndiaye 🇸🇳", "x".repeat(10_000)]) {
      expect(cipher.decrypt(cipher.encrypt(value))).toBe(value);
    }
  });

  it("names the format version and key id and never repeats a ciphertext", () => {
    const a = cipher.encrypt("+221 77 123 45 67");
    const b = cipher.encrypt("+221 77 123 45 67");
    expect(a).toMatch(/^fle1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("221");
  });

  it("rejects a tampered IV, ciphertext or tag", () => {
    const token = cipher.encrypt("4970 1012 3456 7890");
    for (const part of [2, 3, 4]) {
      expect(() => cipher.decrypt(flip(token, part))).toThrow(/failed authentication/);
    }
  });

  it("rejects a value moved to another field (authenticated context)", () => {
    const token = cipher.encrypt("FR7630006000011234567890189", "users.iban");
    expect(cipher.decrypt(token, "users.iban")).toBe("FR7630006000011234567890189");
    expect(() => cipher.decrypt(token, "beneficiaries.iban")).toThrow(FieldEncryptionError);
    expect(() => cipher.decrypt(token)).toThrow(/failed authentication/);
  });

  it("rejects a value decrypted with the wrong key under the same key id", () => {
    const token = cipher.encrypt("secret");
    const impostor = createFieldCipher(createKeyring({ k1: k2 }, "k1"));
    expect(() => impostor.decrypt(token)).toThrow(/failed authentication/);
  });

  it("rejects a value whose key id was rewritten to another known key", () => {
    const both = createFieldCipher(createKeyring({ k1, k2 }, "k1"));
    const token = both.encrypt("secret").replace(/^fle1\.k1\./, "fle1.k2.");
    expect(() => both.decrypt(token)).toThrow(/failed authentication/);
  });

  it("names an unknown key id instead of failing obscurely", () => {
    const token = createFieldCipher(createKeyring({ k2 }, "k2")).encrypt("secret");
    expect(() => cipher.decrypt(token)).toThrow(/unknown key id "k2"/);
  });

  it("rejects what is not a field-encrypted value", () => {
    for (const bad of ["plain text", "fle0.k1.a.b.c", "fle1.k1.a.b", "fle1.k1.AAAA.AAAA.AAAA"]) {
      expect(() => cipher.decrypt(bad), bad).toThrow(FieldEncryptionError);
    }
  });

  it("rotates: old values still decrypt, are flagged, and re-encrypt under the active key", () => {
    const old = cipher.encrypt("Moussa Diop", "users.name");
    const rotated = createFieldCipher(createKeyring({ k1, k2 }, "k2"));
    expect(rotated.decrypt(old, "users.name")).toBe("Moussa Diop");
    expect(rotated.needsRotation(old)).toBe(true);
    const fresh = rotated.rotate(old, "users.name");
    expect(rotated.keyIdOf(fresh)).toBe("k2");
    expect(rotated.needsRotation(fresh)).toBe(false);
    // Once every value is rotated, the old key can leave the keyring.
    expect(createFieldCipher(createKeyring({ k2 }, "k2")).decrypt(fresh, "users.name")).toBe("Moussa Diop");
  });
});

describe("the keyring from the environment", () => {
  const env = (keys: string, active?: string) => ({ FIELD_ENCRYPTION_KEYS: keys, FIELD_ENCRYPTION_ACTIVE_KEY: active });

  it("reads several keys and the active one", () => {
    const ring = keyringFromEnv(env(`k1:${k1.toString("base64")}, k2:${k2.toString("base64")}`, "k2"));
    expect([...ring.keys.keys()]).toEqual(["k1", "k2"]);
    expect(ring.activeKeyId).toBe("k2");
    expect(ring.keys.get("k1")!.equals(k1)).toBe(true);
  });

  it("takes the only key as active when none is named", () => {
    expect(keyringFromEnv(env(`k1:${k1.toString("base64")}`)).activeKeyId).toBe("k1");
  });

  it("refuses unusable configurations without echoing key material", () => {
    const short = randomBytes(16).toString("base64");
    const cases: [Record<string, string | undefined>, RegExp][] = [
      [{}, /FIELD_ENCRYPTION_KEYS is not set/],
      [env(`k1:${short}`), /16 bytes, AES-256 needs 32/],
      [env(`k1:${k1.toString("base64")},k2:${k2.toString("base64")}`), /ACTIVE_KEY is required/],
      [env(`k1:${k1.toString("base64")}`, "k9"), /active key "k9" is not in the keyring/],
      [env(`k1:${k1.toString("base64")},k1:${k2.toString("base64")}`, "k1"), /appears twice/],
      [env(`bad id:${k1.toString("base64")}`, "bad id"), /invalid key id/],
      [env(k1.toString("base64")), /<key id>:<base64 key>/],
    ];
    for (const [e, message] of cases) {
      let error: Error | undefined;
      try {
        keyringFromEnv(e);
      } catch (err) {
        error = err as Error;
      }
      expect(error, String(message)).toBeInstanceOf(FieldEncryptionError);
      expect(error!.message).toMatch(message);
      expect(error!.message).not.toContain(k1.toString("base64"));
      expect(error!.message).not.toContain(short);
    }
  });
});
