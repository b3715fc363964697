import { createLogger, type Logger } from "../log";
import { AwsKms } from "./aws-kms";
import { FieldEncryptionError } from "./cipher";
import { createFieldEncryption, parseDataKeys, type FieldEncryption, type FieldEncryptionOptions, type FieldRegistry } from "./envelope";
import { ENCRYPTED_FIELDS } from "./fields";
import { KmsError, type Kms } from "./kms";
import { LocalKms, parseLocalMasterKeys } from "./local-kms";
import { VaultTransitKms } from "./vault-transit";

export { FieldEncryptionError, type FieldContext, type FieldRef } from "./cipher";
export { createFieldEncryption, parseDataKeys, type FieldEncryption, type WrappedDataKey } from "./envelope";
export { ENCRYPTED_FIELDS, PURPOSES } from "./fields";
export { KmsError, type Kms } from "./kms";

type Env = Record<string, string | undefined>;

function positive(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new FieldEncryptionError(`${name} must be a positive integer`);
  return n;
}

/**
 * The KMS named by FIELD_ENCRYPTION_KMS (`aws-kms`, `vault-transit` or `local`) and its settings:
 *  - aws-kms: FIELD_ENCRYPTION_KMS_KEY (key ARN), AWS_REGION, optional FIELD_ENCRYPTION_KMS_ENDPOINT;
 *    credentials from the SDK's default chain (IRSA / Pod Identity in the cluster).
 *  - vault-transit: VAULT_ADDR, FIELD_ENCRYPTION_KMS_KEY (Transit key), FIELD_ENCRYPTION_VAULT_MOUNT
 *    (`transit`), VAULT_NAMESPACE, and one of VAULT_K8S_ROLE (Kubernetes auth with the projected
 *    token at VAULT_K8S_TOKEN_FILE), VAULT_TOKEN_FILE (Vault Agent) or VAULT_TOKEN.
 *  - local: FIELD_ENCRYPTION_LOCAL_MASTER_KEYS (development and tests only).
 */
export function kmsFromEnv(env: Env): Kms {
  const provider = env.FIELD_ENCRYPTION_KMS?.trim();
  const key = env.FIELD_ENCRYPTION_KMS_KEY?.trim() ?? "";
  switch (provider) {
    case "aws-kms":
      return new AwsKms({ keyId: key, region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || "", endpoint: env.FIELD_ENCRYPTION_KMS_ENDPOINT?.trim() || undefined });
    case "vault-transit": {
      const role = env.VAULT_K8S_ROLE?.trim();
      const tokenFile = env.VAULT_TOKEN_FILE?.trim();
      const token = env.VAULT_TOKEN?.trim();
      const auth = role
        ? { kubernetes: { role, jwtFile: env.VAULT_K8S_TOKEN_FILE?.trim() || "/var/run/secrets/vault/token", mount: env.VAULT_K8S_AUTH_MOUNT?.trim() || undefined } }
        : tokenFile
          ? { tokenFile }
          : token
            ? { token }
            : undefined;
      if (!auth) throw new KmsError("Vault Transit needs VAULT_K8S_ROLE, VAULT_TOKEN_FILE or VAULT_TOKEN", "not-configured");
      return new VaultTransitKms({ address: env.VAULT_ADDR?.trim() ?? "", key, mount: env.FIELD_ENCRYPTION_VAULT_MOUNT?.trim() || undefined, namespace: env.VAULT_NAMESPACE?.trim() || undefined, auth });
    }
    case "local":
      return new LocalKms(parseLocalMasterKeys(env.FIELD_ENCRYPTION_LOCAL_MASTER_KEYS ?? ""));
    case undefined:
    case "":
      throw new KmsError("FIELD_ENCRYPTION_KMS is not set (aws-kms, vault-transit or local)", "not-configured");
    default:
      throw new KmsError("FIELD_ENCRYPTION_KMS must be aws-kms, vault-transit or local", "misconfigured");
  }
}

/** The process's field encryption from the environment. Nothing is unwrapped until `load()`. */
export function fieldEncryptionFromEnv(env: Env, opts: { log?: Logger; fields?: FieldRegistry; onUse?: FieldEncryptionOptions["onUse"] } = {}): FieldEncryption {
  if (env.FIELD_ENCRYPTION_KEYS !== undefined) {
    throw new FieldEncryptionError("FIELD_ENCRYPTION_KEYS (raw keys) is no longer read: give wrapped data keys in FIELD_ENCRYPTION_DATA_KEYS and the KMS in FIELD_ENCRYPTION_KMS");
  }
  return createFieldEncryption({
    kms: kmsFromEnv(env),
    dataKeys: parseDataKeys(env.FIELD_ENCRYPTION_DATA_KEYS),
    fields: opts.fields ?? ENCRYPTED_FIELDS,
    log: opts.log ?? createLogger("field-encryption"),
    cache: { ttlMs: positive(env, "FIELD_ENCRYPTION_CACHE_TTL_MS", 3_600_000), maxEntries: positive(env, "FIELD_ENCRYPTION_CACHE_MAX", 100) },
    onUse: opts.onUse,
  });
}

const KEY = Symbol.for("diaspomoney.web.field-encryption");

/**
 * The process's instance (on `globalThis`, see lifecycle.ts), installed by the server once loaded.
 * Route handlers call `fieldEncryption().encrypt(...)`.
 */
export function fieldEncryption(): FieldEncryption {
  const fe = (globalThis as { [KEY]?: FieldEncryption })[KEY];
  if (!fe) throw new FieldEncryptionError("field encryption is not loaded (the server loads it before listening)");
  return fe;
}

export function installFieldEncryption(fe: FieldEncryption): void {
  (globalThis as { [KEY]?: FieldEncryption })[KEY] = fe;
}
