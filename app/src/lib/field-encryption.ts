import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Field-level encryption for sensitive values stored in MongoDB (IBAN, phone numbers, identity
 * documents): AES-256-GCM, one random 96-bit IV per value, the 128-bit tag checked on decryption.
 *
 * A value is stored as `fle1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts). The key id makes
 * rotation possible without a flag day: new values use the active key, old values still decrypt
 * with the key named in them, and `needsRotation` / `rotate` re-encrypt them in the background.
 * The version and key id are authenticated too (part of the additional data), as is an optional
 * caller context such as `"users.iban"`, which stops a ciphertext from being copied to another field.
 *
 * Keys come from the environment (the platform generates them and mounts them from a Secret):
 *   FIELD_ENCRYPTION_KEYS="k1:<base64 32 bytes>,k2:<base64 32 bytes>"
 *   FIELD_ENCRYPTION_ACTIVE_KEY="k2"
 */
const VERSION = "fle1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class FieldEncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FieldEncryptionError";
  }
}

export interface Keyring {
  keys: ReadonlyMap<string, Buffer>;
  activeKeyId: string;
}

export function createKeyring(keys: Record<string, Buffer>, activeKeyId: string): Keyring {
  const map = new Map<string, Buffer>();
  for (const [id, key] of Object.entries(keys)) {
    if (!KEY_ID.test(id)) throw new FieldEncryptionError(`invalid key id ${JSON.stringify(id)}: letters, digits, _ or -, at most 32`);
    if (key.length !== KEY_BYTES) throw new FieldEncryptionError(`key ${id} is ${key.length} bytes, AES-256 needs ${KEY_BYTES}`);
    map.set(id, Buffer.from(key));
  }
  if (!map.has(activeKeyId)) throw new FieldEncryptionError(`the active key ${JSON.stringify(activeKeyId)} is not in the keyring`);
  return { keys: map, activeKeyId };
}

/** Reads FIELD_ENCRYPTION_KEYS and FIELD_ENCRYPTION_ACTIVE_KEY. Error messages never include key material. */
export function keyringFromEnv(env: Record<string, string | undefined> = process.env): Keyring {
  const raw = env.FIELD_ENCRYPTION_KEYS?.trim();
  if (!raw) throw new FieldEncryptionError("FIELD_ENCRYPTION_KEYS is not set");
  const keys: Record<string, Buffer> = {};
  for (const entry of raw.split(",").map((e) => e.trim()).filter(Boolean)) {
    const sep = entry.indexOf(":");
    if (sep <= 0) throw new FieldEncryptionError("FIELD_ENCRYPTION_KEYS entries must be <key id>:<base64 key>");
    const id = entry.slice(0, sep);
    if (id in keys) throw new FieldEncryptionError(`key id ${JSON.stringify(id)} appears twice in FIELD_ENCRYPTION_KEYS`);
    keys[id] = Buffer.from(entry.slice(sep + 1), "base64");
  }
  const ids = Object.keys(keys);
  const active = env.FIELD_ENCRYPTION_ACTIVE_KEY?.trim() || (ids.length === 1 ? ids[0] : "");
  if (!active) throw new FieldEncryptionError("FIELD_ENCRYPTION_ACTIVE_KEY is required when several keys are configured");
  return createKeyring(keys, active);
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${context}`, "utf8");
}

export interface FieldCipher {
  encrypt(plaintext: string, context?: string): string;
  decrypt(token: string, context?: string): string;
  /** Key id a stored value was encrypted with. */
  keyIdOf(token: string): string;
  /** True when the value was not encrypted with the active key. */
  needsRotation(token: string): boolean;
  /** Decrypts with the old key and encrypts with the active one (same context). */
  rotate(token: string, context?: string): string;
}

export function createFieldCipher(keyring: Keyring): FieldCipher {
  const parse = (token: string) => {
    const parts = token.split(".");
    if (parts.length !== 5 || parts[0] !== VERSION) throw new FieldEncryptionError("not a field-encrypted value");
    const [, keyId, iv, ciphertext, tag] = parts;
    return { keyId, iv: Buffer.from(iv, "base64url"), ciphertext: Buffer.from(ciphertext, "base64url"), tag: Buffer.from(tag, "base64url") };
  };

  const encrypt = (plaintext: string, context = "") => {
    const keyId = keyring.activeKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", keyring.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, keyId, iv.toString("base64url"), ciphertext.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
  };

  const decrypt = (token: string, context = "") => {
    const { keyId, iv, ciphertext, tag } = parse(token);
    const key = keyring.keys.get(keyId);
    if (!key) throw new FieldEncryptionError(`unknown key id ${JSON.stringify(keyId)}: the key was removed from the keyring before the data was rotated`);
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new FieldEncryptionError("malformed field-encrypted value");
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(keyId, context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
    } catch {
      // GCM does not say why: a changed byte, a wrong key or a wrong context all look the same.
      throw new FieldEncryptionError("field-encrypted value failed authentication (tampered, wrong key or wrong context)");
    }
  };

  return {
    encrypt,
    decrypt,
    keyIdOf: (token) => parse(token).keyId,
    needsRotation: (token) => parse(token).keyId !== keyring.activeKeyId,
    rotate: (token, context = "") => encrypt(decrypt(token, context), context),
  };
}
