import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { DATA_KEY_BYTES, KEY_ID } from "./cipher";
import { bindingContext, KmsError, type DataKeyBinding, type Kms } from "./kms";

/**
 * A KMS for development and tests: master keys given in the environment
 * (`FIELD_ENCRYPTION_LOCAL_MASTER_KEYS="m1:<base64 32 bytes>,m2:…"`, the last one wraps), AES-256-GCM
 * wrapping with the binding as additional data. It has a KMS's shape (rotation by a new master key
 * and rewrap, removal of the old one) but none of its protection: the master key sits next to the
 * wrapped keys. The platform does not offer it (components/app.ts knows only real KMSs).
 *
 * Wrapped form: `local1.<master key id>.<base64url(iv ‖ wrapped key ‖ tag)>`.
 */
const PREFIX = "local1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class LocalKms implements Kms {
  readonly provider = "local" as const;
  readonly keyRef: string;
  private readonly keys: Map<string, Buffer>;
  private readonly active: string;

  constructor(masterKeys: ReadonlyMap<string, Buffer>) {
    if (masterKeys.size === 0) throw new KmsError("the local KMS needs at least one master key", "not-configured");
    for (const [id, key] of masterKeys) {
      if (!KEY_ID.test(id)) throw new KmsError(`invalid local master key id ${JSON.stringify(id)}`, "misconfigured");
      if (key.length !== DATA_KEY_BYTES) throw new KmsError(`local master key ${id} is ${key.length} bytes, needs ${DATA_KEY_BYTES}`, "misconfigured");
      if (new Set(key).size === 1) throw new KmsError(`local master key ${id} is one repeated byte`, "misconfigured");
    }
    this.keys = new Map(masterKeys);
    this.active = [...masterKeys.keys()].pop()!;
    this.keyRef = `local:${this.active}`;
  }

  async generateDataKey(binding: DataKeyBinding): Promise<string> {
    return this.wrap(randomBytes(DATA_KEY_BYTES), binding);
  }

  async unwrap(wrapped: string, binding: DataKeyBinding): Promise<Buffer> {
    const parts = wrapped.split(".");
    if (parts.length !== 3 || parts[0] !== PREFIX) throw new KmsError("not a key wrapped by the local KMS", "InvalidCiphertext");
    const master = this.keys.get(parts[1]);
    if (!master) throw new KmsError(`unknown local master key ${JSON.stringify(parts[1])}`, "UnknownMasterKey");
    const blob = Buffer.from(parts[2], "base64url");
    if (blob.toString("base64url") !== parts[2] || blob.length !== IV_BYTES + DATA_KEY_BYTES + TAG_BYTES) throw new KmsError("malformed wrapped key", "InvalidCiphertext");
    const decipher = createDecipheriv("aes-256-gcm", master, blob.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(parts[1], binding));
    decipher.setAuthTag(blob.subarray(IV_BYTES + DATA_KEY_BYTES));
    try {
      return Buffer.concat([decipher.update(blob.subarray(IV_BYTES, IV_BYTES + DATA_KEY_BYTES)), decipher.final()]);
    } catch {
      throw new KmsError("wrapped key failed authentication (wrong master key or binding)", "InvalidCiphertext");
    }
  }

  async rewrap(wrapped: string, binding: DataKeyBinding): Promise<string> {
    return this.wrap(await this.unwrap(wrapped, binding), binding);
  }

  private wrap(key: Buffer, binding: DataKeyBinding): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(this.active)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.active, binding));
    const body = Buffer.concat([cipher.update(key), cipher.final()]);
    return `${PREFIX}.${this.active}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url")}`;
  }
}

function aad(masterId: string, binding: DataKeyBinding): Buffer {
  return Buffer.from(JSON.stringify([PREFIX, masterId, bindingContext(binding)]), "utf8");
}

/** `m1:<base64>,m2:<base64>` with strict (canonical, padded) base64; messages never show a key. */
export function parseLocalMasterKeys(raw: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const [i, entry] of raw.split(",").map((e) => e.trim()).filter(Boolean).entries()) {
    const sep = entry.indexOf(":");
    const id = sep > 0 ? entry.slice(0, sep) : "";
    if (!KEY_ID.test(id)) throw new KmsError(`FIELD_ENCRYPTION_LOCAL_MASTER_KEYS entry ${i + 1} is not <id>:<base64 key>`, "misconfigured");
    if (keys.has(id)) throw new KmsError(`local master key ${id} appears twice`, "misconfigured");
    const b64 = entry.slice(sep + 1);
    const key = Buffer.from(b64, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.toString("base64") !== b64) throw new KmsError(`local master key ${id} is not canonical base64`, "misconfigured");
    keys.set(id, key);
  }
  return keys;
}
