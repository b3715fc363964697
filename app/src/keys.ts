/**
 * The operators' tool for field-encryption keys (`npm run -w app keys -- <command>`, or
 * `node keys.js <command>` in the image). It reads the same environment as the server
 * (FIELD_ENCRYPTION_KMS*, FIELD_ENCRYPTION_DATA_KEYS) and prints JSON on stdout; logs go to stderr.
 *
 *   generate --purpose <p> --id <id>   a new data key generated and wrapped by the KMS, appended to
 *                                      FIELD_ENCRYPTION_DATA_KEYS (the new active key of its purpose)
 *   rewrap                             every data key wrapped again under the current master key
 *                                      (after a Vault key rotation, or with FIELD_ENCRYPTION_KMS_KEY
 *                                      set to a new AWS key)
 *   check                              unwraps and checks every key, as the server does at start-up
 *   dev-env                            a local master key and one data key per purpose (development
 *                                      and tests only: the master key is printed)
 *
 * The printed array is what goes into the platform's configuration; it holds wrapped keys only.
 */
import { randomBytes } from "node:crypto";
import { PURPOSES, fieldEncryptionFromEnv, kmsFromEnv, parseDataKeys, type WrappedDataKey } from "./lib/field-encryption";
import { LocalKms } from "./lib/field-encryption/local-kms";
import { createLogger } from "./lib/log";

const log = createLogger("keys", (line) => process.stderr.write(line));

function option(args: string[], name: string): string {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? args[i + 1] : undefined;
  if (!value || value.startsWith("--")) throw new Error(`--${name} <value> is required`);
  return value;
}

async function main(argv: string[]): Promise<unknown> {
  const [command, ...args] = argv;
  const env = process.env;
  switch (command) {
    case "generate": {
      const purpose = option(args, "purpose");
      const id = option(args, "id");
      const existing = env.FIELD_ENCRYPTION_DATA_KEYS?.trim() ? parseDataKeys(env.FIELD_ENCRYPTION_DATA_KEYS) : [];
      const entry: WrappedDataKey = { id, purpose, wrapped: await kmsFromEnv(env).generateDataKey({ keyId: id, purpose }) };
      // Validated as the server will read it (id and purpose syntax, no duplicate).
      return parseDataKeys(JSON.stringify([...existing, entry]));
    }
    case "rewrap": {
      const kms = kmsFromEnv(env);
      const keys = parseDataKeys(env.FIELD_ENCRYPTION_DATA_KEYS);
      const out: WrappedDataKey[] = [];
      for (const k of keys) out.push({ ...k, wrapped: await kms.rewrap(k.wrapped, { keyId: k.id, purpose: k.purpose }) });
      return out;
    }
    case "check": {
      const fe = fieldEncryptionFromEnv(env, { log });
      await fe.load();
      return fe.describe();
    }
    case "dev-env": {
      const master = randomBytes(32);
      const kms = new LocalKms(new Map([["m1", master]]));
      const keys: WrappedDataKey[] = [];
      for (const purpose of PURPOSES) keys.push({ id: `${purpose}-1`, purpose, wrapped: await kms.generateDataKey({ keyId: `${purpose}-1`, purpose }) });
      return {
        FIELD_ENCRYPTION_KMS: "local",
        FIELD_ENCRYPTION_LOCAL_MASTER_KEYS: `m1:${master.toString("base64")}`,
        FIELD_ENCRYPTION_DATA_KEYS: JSON.stringify(keys),
      };
    }
    default:
      throw new Error("usage: keys.js generate --purpose <p> --id <id> | rewrap | check | dev-env");
  }
}

main(process.argv.slice(2)).then(
  (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
  (err: unknown) => {
    log.error("failed", { reason: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code });
    process.exit(1);
  },
);
