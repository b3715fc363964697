import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";

/**
 * The data-key layer of field-level encryption: how one sensitive value (an IBAN, a phone number,
 * an identity document) is sealed with an unwrapped data key. Everything here is synchronous and
 * pure; where data keys come from (a KMS) is envelope.ts's business.
 *
 * A token is `fle2.<data key id>.<payload>`, the payload the unpadded base64url of
 * `IV (12) ‖ ciphertext ‖ GCM tag (16)`. It is canonical: one alphabet, no padding, no stray bits,
 * and a ciphertext length that is one of the padding buckets, so a stored value has exactly one
 * spelling and a token of another length is refused before any cryptography.
 *
 * The additional data binds the version, the data key id and the full context (collection, field
 * and record id): a token copied to another field, another record or relabelled with another key
 * fails authentication. Values are padded to power-of-two buckets of at least 64 bytes, so a token's
 * length says nothing about an IBAN's country or a name's length below that.
 */
export const TOKEN_VERSION = "fle2";
export const INDEX_VERSION = "bix1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;
/** Smallest and largest padded sizes; a value must leave room for the one-byte pad marker. */
export const MIN_BUCKET = 64;
export const MAX_BUCKET = 64 * 1024;
const PAD_MARKER = 0x80;

export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
export const PURPOSE = /^[a-z][a-z0-9-]{0,31}$/;
const COLLECTION = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const RECORD_ID = /^[\x21-\x7e]{1,128}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class FieldEncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FieldEncryptionError";
  }
}

/** Where a value lives. Every part is required: a token decrypts only where it was written. */
export interface FieldContext {
  collection: string;
  /** Dotted path of the field in the document (`iban`, `kyc.document.number`). */
  field: string;
  /** The document's id (an ObjectId's hex string, a UUID): generate it before encrypting. */
  recordId: string;
}

export type FieldRef = Pick<FieldContext, "collection" | "field">;

/** An unwrapped data key. `key` never leaves this process and is never logged. */
export interface DataKey {
  id: string;
  purpose: string;
  key: Buffer;
}

/** Validates a context and returns it normalised; an unusable one is refused, never defaulted. */
export function checkContext(ctx: FieldContext): FieldContext {
  if (!ctx || typeof ctx !== "object") throw new FieldEncryptionError("a field context {collection, field, recordId} is required");
  const { collection, field, recordId } = ctx;
  if (typeof collection !== "string" || !COLLECTION.test(collection)) throw new FieldEncryptionError("context.collection must be a collection name");
  if (typeof field !== "string" || field.length > 128 || !FIELD.test(field)) throw new FieldEncryptionError("context.field must be a dotted field path");
  if (typeof recordId !== "string" || !RECORD_ID.test(recordId)) throw new FieldEncryptionError("context.recordId must be 1 to 128 printable ASCII characters");
  return { collection, field, recordId };
}

/**
 * Checks a data key before use: the right length, not all one byte (all zero included), not
 * obviously non-random. Messages name the key id, never the material.
 */
export function checkDataKey(k: DataKey): void {
  if (!KEY_ID.test(k.id)) throw new FieldEncryptionError(`invalid data key id ${JSON.stringify(k.id)}: letters, digits, _ or -, at most 32`);
  if (!PURPOSE.test(k.purpose)) throw new FieldEncryptionError(`data key ${k.id}: invalid purpose ${JSON.stringify(k.purpose)}: lower-case letters, digits and -, at most 32`);
  if (k.key.length !== DATA_KEY_BYTES) throw new FieldEncryptionError(`data key ${k.id} is ${k.key.length} bytes, AES-256 needs ${DATA_KEY_BYTES}`);
  const distinct = new Set(k.key).size;
  if (distinct === 1) throw new FieldEncryptionError(`data key ${k.id} is ${k.key[0] === 0 ? "all zero" : "one repeated byte"}`);
  // 32 random bytes have about 30 distinct values; fewer than 16 happens by chance with odds
  // below 1e-12, and is what a hand-typed or truncated key looks like.
  if (distinct < 16) throw new FieldEncryptionError(`data key ${k.id} does not look random (${distinct} distinct byte values)`);
}

/** A short, one-way fingerprint to compare keys without keeping or printing them. */
export function fingerprint(key: Buffer): string {
  return createHash("sha256").update("diaspomoney/fle/fingerprint\0").update(key).digest("hex").slice(0, 16);
}

/** Separate keys for sealing and for blind indexes, derived from one data key (HKDF-SHA-256). */
function subkey(k: DataKey, use: "seal" | "blind-index"): Buffer {
  return Buffer.from(hkdfSync("sha256", k.key, Buffer.alloc(0), `diaspomoney/${TOKEN_VERSION}/${use}/${k.purpose}/${k.id}`, DATA_KEY_BYTES));
}

function additionalData(keyId: string, ctx: FieldContext): Buffer {
  // JSON of an array: unambiguous whatever characters the parts hold.
  return Buffer.from(JSON.stringify([TOKEN_VERSION, keyId, ctx.collection, ctx.field, ctx.recordId]), "utf8");
}

/** The padded size for `n` bytes of plaintext (plus the marker byte). */
export function bucketFor(n: number): number {
  let size = MIN_BUCKET;
  while (size < n + 1) size *= 2;
  if (size > MAX_BUCKET) throw new FieldEncryptionError(`value too long for field encryption (${n} bytes, at most ${MAX_BUCKET - 1})`);
  return size;
}

function isBucket(n: number): boolean {
  for (let size = MIN_BUCKET; size <= MAX_BUCKET; size *= 2) if (n === size) return true;
  return false;
}

/** ISO/IEC 7816-4 padding: the value, 0x80, then zeros up to the bucket. */
function pad(value: Buffer): Buffer {
  const out = Buffer.alloc(bucketFor(value.length));
  value.copy(out);
  out[value.length] = PAD_MARKER;
  return out;
}

function unpad(padded: Buffer): Buffer {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== PAD_MARKER) throw new FieldEncryptionError("malformed padding");
  return padded.subarray(0, i);
}

/** Strict base64url: the only spelling Buffer would produce for these bytes. */
function decodeCanonical(part: string): Buffer | undefined {
  if (!BASE64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, "base64url");
  return bytes.toString("base64url") === part ? bytes : undefined;
}

export interface ParsedToken {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Parses a token, refusing every non-canonical spelling and every length that is not a bucket. */
export function parseToken(token: string): ParsedToken {
  if (typeof token !== "string") throw new FieldEncryptionError("not a field-encrypted value");
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== TOKEN_VERSION || !KEY_ID.test(parts[1])) throw new FieldEncryptionError("not a field-encrypted value");
  const payload = decodeCanonical(parts[2]);
  if (!payload) throw new FieldEncryptionError("malformed field-encrypted value (not canonical base64url)");
  const ctLength = payload.length - IV_BYTES - TAG_BYTES;
  if (!isBucket(ctLength)) throw new FieldEncryptionError("malformed field-encrypted value (length)");
  return {
    keyId: parts[1],
    iv: payload.subarray(0, IV_BYTES),
    ciphertext: payload.subarray(IV_BYTES, IV_BYTES + ctLength),
    tag: payload.subarray(IV_BYTES + ctLength),
  };
}

export function seal(k: DataKey, plaintext: string, context: FieldContext): string {
  if (typeof plaintext !== "string") throw new FieldEncryptionError("only strings are field-encrypted");
  const ctx = checkContext(context);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", subkey(k, "seal"), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(k.id, ctx));
  const ciphertext = Buffer.concat([cipher.update(pad(Buffer.from(plaintext, "utf8"))), cipher.final()]);
  return `${TOKEN_VERSION}.${k.id}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString("base64url")}`;
}

export function open(k: DataKey, token: ParsedToken, context: FieldContext): string {
  const ctx = checkContext(context);
  if (token.keyId !== k.id) throw new FieldEncryptionError("token and data key disagree");
  const decipher = createDecipheriv("aes-256-gcm", subkey(k, "seal"), token.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(k.id, ctx));
  decipher.setAuthTag(token.tag);
  let padded: Buffer;
  try {
    padded = Buffer.concat([decipher.update(token.ciphertext), decipher.final()]);
  } catch {
    // GCM does not say why: a changed byte, a wrong key or a wrong context all look the same.
    throw new FieldEncryptionError("field-encrypted value failed authentication (tampered, wrong key or wrong context)");
  }
  return unpad(padded).toString("utf8");
}

/**
 * A blind index: a keyed HMAC of the normalised value, scoped to its field, for exact lookups
 * (`{ "iban.index": { $in: candidates } }`) without storing or querying the plaintext. It reveals
 * equality within one field and nothing else; it is never used to decrypt.
 */
export function blindIndex(k: DataKey, normalized: string, ref: FieldRef): string {
  const { collection, field } = checkContext({ ...ref, recordId: "-" });
  const mac = createHmac("sha256", subkey(k, "blind-index")).update(JSON.stringify([INDEX_VERSION, collection, field, normalized])).digest();
  return `${INDEX_VERSION}.${k.id}.${mac.toString("base64url")}`;
}
