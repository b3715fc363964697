import type { Logger } from "../log";
import {
  blindIndex,
  checkDataKey,
  FieldEncryptionError,
  fingerprint,
  KEY_ID,
  open,
  parseToken,
  PURPOSE,
  seal,
  type DataKey,
  type FieldContext,
  type FieldRef,
} from "./cipher";
import type { Kms } from "./kms";

/**
 * Envelope encryption: per-purpose data keys, wrapped by a master key that stays in a KMS. The pod
 * holds only the wrapped keys and the KMS reference (FIELD_ENCRYPTION_DATA_KEYS, FIELD_ENCRYPTION_KMS*);
 * at start-up every data key is unwrapped once and checked, so a bad key fails the rollout rather
 * than the first customer request. Unwrapped keys are then kept in a cache bounded in size and age:
 * after `ttlMs` a key is unwrapped again (a key disabled in the KMS stops working within that
 * time), and the least recently used key leaves when there are more than `maxEntries`.
 */

/** A data key as the pod receives it: its id, what it protects, and its wrapped form. */
export interface WrappedDataKey {
  id: string;
  purpose: string;
  wrapped: string;
}

/** Which data key purpose protects a field, and how to normalise it for a blind index (if it has one). */
export interface FieldSpec {
  purpose: string;
  /** Present when the app looks the field up by exact value: the blind index hashes the normalised value. */
  normalize?: (value: string) => string;
}

/** `"<collection>.<field>"` → spec. A field that is not here cannot be encrypted. */
export type FieldRegistry = Readonly<Record<string, FieldSpec>>;

export type KeyUse = "encrypt" | "decrypt" | "blind-index" | "unwrap";

export interface CacheOptions {
  /** How long an unwrapped key is used before it is unwrapped again. Default one hour. */
  ttlMs?: number;
  /** Unwrapped keys kept at most (least recently used leave first). Default 100. */
  maxEntries?: number;
  /** After `ttlMs`, how long a key may still be used while the KMS cannot be reached. Default `ttlMs`. */
  staleIfErrorMs?: number;
}

export interface FieldEncryptionOptions {
  kms: Kms;
  dataKeys: WrappedDataKey[];
  fields: FieldRegistry;
  log: Logger;
  cache?: CacheOptions;
  now?: () => number;
  /** Told about every use of a data key (for the per-key counters); never given the key. */
  onUse?: (use: { operation: KeyUse; keyId: string; purpose: string; ok: boolean }) => void;
}

export interface FieldEncryption {
  /** Unwraps and checks every data key; rejects on the first problem. Call before serving. */
  load(): Promise<void>;
  encrypt(value: string, ctx: FieldContext): Promise<string>;
  decrypt(token: string, ctx: FieldContext): Promise<string>;
  /** Blind index of a value under the purpose's active key, to store next to the token. */
  blindIndex(value: string, ref: FieldRef): Promise<string>;
  /** Blind indexes under every key of the purpose, active first: what a lookup matches with `$in` during a rotation. */
  blindIndexCandidates(value: string, ref: FieldRef): Promise<string[]>;
  keyIdOf(token: string): string;
  /** True when the token's data key is no longer its purpose's active key. */
  needsRotation(token: string): boolean;
  /** Decrypts and encrypts again under the purpose's active key (same context). */
  rotate(token: string, ctx: FieldContext): Promise<string>;
  describe(): { provider: string; keyRef: string; purposes: Record<string, { active: string; keys: string[] }> };
}

/** Parses FIELD_ENCRYPTION_DATA_KEYS (a JSON array). Messages name entries by position or id, never their content. */
export function parseDataKeys(raw: string | undefined): WrappedDataKey[] {
  if (!raw?.trim()) throw new FieldEncryptionError("FIELD_ENCRYPTION_DATA_KEYS is not set");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new FieldEncryptionError("FIELD_ENCRYPTION_DATA_KEYS is not valid JSON");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new FieldEncryptionError("FIELD_ENCRYPTION_DATA_KEYS must be a non-empty JSON array");
  const ids = new Set<string>();
  const blobs = new Set<string>();
  return parsed.map((e, i): WrappedDataKey => {
    const where = `FIELD_ENCRYPTION_DATA_KEYS[${i}]`;
    if (!e || typeof e !== "object" || Array.isArray(e)) throw new FieldEncryptionError(`${where} must be an object {id, purpose, wrapped}`);
    const keys = Object.keys(e).sort().join(",");
    if (keys !== "id,purpose,wrapped") throw new FieldEncryptionError(`${where} must have exactly the fields id, purpose and wrapped`);
    const { id, purpose, wrapped } = e as Record<string, unknown>;
    if (typeof id !== "string" || !KEY_ID.test(id)) throw new FieldEncryptionError(`${where}.id must be letters, digits, _ or -, at most 32`);
    if (typeof purpose !== "string" || !PURPOSE.test(purpose)) throw new FieldEncryptionError(`${where}.purpose must be lower-case letters, digits and -, at most 32`);
    if (typeof wrapped !== "string" || wrapped.length === 0 || wrapped.length > 4096) throw new FieldEncryptionError(`${where}.wrapped must be a wrapped key`);
    if (ids.has(id)) throw new FieldEncryptionError(`data key id ${JSON.stringify(id)} appears twice in FIELD_ENCRYPTION_DATA_KEYS`);
    if (blobs.has(wrapped)) throw new FieldEncryptionError(`data key ${id} has the same wrapped key as an earlier entry`);
    ids.add(id);
    blobs.add(wrapped);
    return { id, purpose, wrapped };
  });
}

/** The field's spec, or an error naming the field (not the value). */
function specOf(fields: FieldRegistry, ref: FieldRef): FieldSpec {
  const spec = Object.prototype.hasOwnProperty.call(fields, `${ref?.collection}.${ref?.field}`) ? fields[`${ref.collection}.${ref.field}`] : undefined;
  if (!spec) throw new FieldEncryptionError(`${ref?.collection}.${ref?.field} is not a registered encrypted field`);
  return spec;
}

interface Cached {
  key: DataKey;
  fetchedAt: number;
}

export function createFieldEncryption(opts: FieldEncryptionOptions): FieldEncryption {
  const { kms, dataKeys, fields, log } = opts;
  const now = opts.now ?? Date.now;
  const ttlMs = opts.cache?.ttlMs ?? 3_600_000;
  const maxEntries = Math.max(1, opts.cache?.maxEntries ?? 100);
  const staleIfErrorMs = opts.cache?.staleIfErrorMs ?? ttlMs;
  const onUse = opts.onUse ?? (() => undefined);

  const byId = new Map(dataKeys.map((k) => [k.id, k]));
  /** Keys of each purpose, oldest first: the last one encrypts. */
  const byPurpose = new Map<string, WrappedDataKey[]>();
  for (const k of dataKeys) byPurpose.set(k.purpose, [...(byPurpose.get(k.purpose) ?? []), k]);
  const active = (purpose: string): WrappedDataKey => {
    const keys = byPurpose.get(purpose);
    if (!keys?.length) throw new FieldEncryptionError(`no data key for purpose ${JSON.stringify(purpose)}`);
    return keys[keys.length - 1];
  };

  const cache = new Map<string, Cached>();
  const inFlight = new Map<string, Promise<DataKey>>();
  /** Fingerprints seen at load: a KMS handing back another key for the same wrapped key is refused. */
  const fingerprints = new Map<string, string>();

  const unwrap = async (entry: WrappedDataKey): Promise<DataKey> => {
    const started = now();
    const about = { kms: kms.provider, keyRef: kms.keyRef, dataKeyId: entry.id, purpose: entry.purpose };
    try {
      const key: DataKey = { id: entry.id, purpose: entry.purpose, key: await kms.unwrap(entry.wrapped, { keyId: entry.id, purpose: entry.purpose }) };
      checkDataKey(key);
      const fp = fingerprint(key.key);
      const known = fingerprints.get(entry.id);
      if (known && known !== fp) throw new FieldEncryptionError(`data key ${entry.id} unwrapped to a different key than at start-up`);
      fingerprints.set(entry.id, fp);
      // Key use is auditable here and in the KMS's own log; the key check value identifies the key
      // across pods without revealing it.
      log.info("data key unwrapped", { ...about, kcv: fp, durationMs: now() - started });
      onUse({ operation: "unwrap", keyId: entry.id, purpose: entry.purpose, ok: true });
      return key;
    } catch (err) {
      log.error("data key unwrap failed", { ...about, code: (err as { code?: string }).code ?? (err as Error).name, err });
      onUse({ operation: "unwrap", keyId: entry.id, purpose: entry.purpose, ok: false });
      throw err;
    }
  };

  const remember = (key: DataKey) => {
    cache.delete(key.id);
    cache.set(key.id, { key, fetchedAt: now() });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  const keyFor = async (entry: WrappedDataKey): Promise<DataKey> => {
    const hit = cache.get(entry.id);
    if (hit && now() - hit.fetchedAt < ttlMs) {
      cache.delete(entry.id);
      cache.set(entry.id, hit);
      return hit.key;
    }
    let pending = inFlight.get(entry.id);
    if (!pending) {
      pending = unwrap(entry).finally(() => inFlight.delete(entry.id));
      inFlight.set(entry.id, pending);
    }
    try {
      const key = await pending;
      remember(key);
      return key;
    } catch (err) {
      if (hit && now() - hit.fetchedAt < ttlMs + staleIfErrorMs) {
        log.warn("using a data key past its cache time: the KMS did not answer", { dataKeyId: entry.id, ageMs: now() - hit.fetchedAt });
        return hit.key;
      }
      throw err;
    }
  };

  const entryOf = (keyId: string): WrappedDataKey => {
    const entry = byId.get(keyId);
    if (!entry) throw new FieldEncryptionError(`unknown data key id ${JSON.stringify(keyId)}: the key was removed before the data was rotated`);
    return entry;
  };

  const used = <T>(operation: KeyUse, entry: WrappedDataKey, run: () => T): T => {
    try {
      const out = run();
      onUse({ operation, keyId: entry.id, purpose: entry.purpose, ok: true });
      return out;
    } catch (err) {
      onUse({ operation, keyId: entry.id, purpose: entry.purpose, ok: false });
      throw err;
    }
  };

  const encrypt = async (value: string, ctx: FieldContext) => {
    const entry = active(specOf(fields, ctx).purpose);
    const key = await keyFor(entry);
    return used("encrypt", entry, () => seal(key, value, ctx));
  };

  const decrypt = async (token: string, ctx: FieldContext) => {
    const spec = specOf(fields, ctx);
    const parsed = parseToken(token);
    const entry = entryOf(parsed.keyId);
    if (entry.purpose !== spec.purpose) {
      throw new FieldEncryptionError(`data key ${entry.id} protects ${entry.purpose}, not ${ctx.collection}.${ctx.field} (${spec.purpose})`);
    }
    const key = await keyFor(entry);
    return used("decrypt", entry, () => open(key, parsed, ctx));
  };

  const indexWith = async (entry: WrappedDataKey, value: string, ref: FieldRef, spec: FieldSpec) => {
    const key = await keyFor(entry);
    return used("blind-index", entry, () => blindIndex(key, spec.normalize!(value), ref));
  };

  const indexSpec = (ref: FieldRef): FieldSpec => {
    const spec = specOf(fields, ref);
    if (!spec.normalize) throw new FieldEncryptionError(`${ref.collection}.${ref.field} has no blind index`);
    return spec;
  };

  return {
    async load() {
      for (const [name, spec] of Object.entries(fields)) {
        if (!byPurpose.has(spec.purpose)) throw new FieldEncryptionError(`no data key for purpose ${JSON.stringify(spec.purpose)} (field ${name})`);
      }
      const keys = await Promise.all(dataKeys.map(unwrap));
      const seen = new Map<string, string>();
      for (const k of keys) {
        const fp = fingerprints.get(k.id)!;
        const twin = seen.get(fp);
        if (twin) throw new FieldEncryptionError(`data keys ${twin} and ${k.id} are the same key`);
        seen.set(fp, k.id);
      }
      // The active keys last, so they are the ones a small cache keeps.
      const actives = new Set([...byPurpose.keys()].map((p) => active(p).id));
      for (const k of [...keys.filter((k) => !actives.has(k.id)), ...keys.filter((k) => actives.has(k.id))]) remember(k);
    },
    encrypt,
    decrypt,
    async blindIndex(value, ref) {
      const spec = indexSpec(ref);
      return indexWith(active(spec.purpose), value, ref, spec);
    },
    async blindIndexCandidates(value, ref) {
      const spec = indexSpec(ref);
      const keys = [...byPurpose.get(spec.purpose)!].reverse();
      return Promise.all(keys.map((entry) => indexWith(entry, value, ref, spec)));
    },
    keyIdOf: (token) => parseToken(token).keyId,
    needsRotation(token) {
      const entry = entryOf(parseToken(token).keyId);
      return entry.id !== active(entry.purpose).id;
    },
    async rotate(token, ctx) {
      return encrypt(await decrypt(token, ctx), ctx);
    },
    describe: () => ({
      provider: kms.provider,
      keyRef: kms.keyRef,
      purposes: Object.fromEntries([...byPurpose].map(([p, keys]) => [p, { active: keys[keys.length - 1].id, keys: keys.map((k) => k.id) }])),
    }),
  };
}
