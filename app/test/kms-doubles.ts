/**
 * Doubles of the two KMSs, on 127.0.0.1, speaking the protocols the real clients speak:
 *  - AWS KMS: the JSON 1.1 protocol of @aws-sdk/client-kms (`POST /`, `X-Amz-Target:
 *    TrentService.<Operation>`), SigV4 signatures verified with the test credentials, AWS error
 *    shapes (`__type`, `x-amzn-ErrorType`), encryption context authenticated with the blob;
 *  - Vault Transit: `/v1/<mount>/{datakey/wrapped,decrypt,rewrap}/<key>` with `X-Vault-Token`,
 *    Kubernetes auth login, derived keys (context required), key versions, rotation and
 *    `min_decryption_version`, Vault's `{"errors": [...]}` bodies.
 * Each keeps an audit log of the calls (operation, key, context), as CloudTrail and Vault's audit
 * device would, so tests can see which data key was unwrapped and how often.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

function gcm(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]);
}

function ungcm(key: Buffer, blob: Buffer, aad: Buffer): Buffer | undefined {
  if (blob.length < 28) return undefined;
  try {
    const d = createDecipheriv("aes-256-gcm", key, blob.subarray(0, 12));
    d.setAAD(aad);
    d.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// AWS KMS

export const AWS_TEST_CREDENTIALS = { accessKeyId: "AKIATESTDOUBLE000001", secretAccessKey: "test-double-secret-key-not-real-000000000" };
const REGION = "eu-west-3";
const ACCOUNT = "111122223333";

interface AwsKey {
  arn: string;
  enabled: boolean;
  /** Backing keys, newest last: automatic rotation adds one, old ones still decrypt. */
  versions: Buffer[];
}

export interface AuditEntry {
  operation: string;
  keyId: string;
  context?: Record<string, string>;
  ok: boolean;
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the SDK's SigV4 signer computes, recomputed here: a request signed with other credentials is refused. */
function verifySigV4(req: IncomingMessage, body: string): void {
  const auth = String(req.headers.authorization ?? "");
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/kms\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new AwsError("IncompleteSignatureException", "missing or malformed SigV4 Authorization header");
  const [, akid, date, region, signedHeaders, signature] = m;
  if (akid !== AWS_TEST_CREDENTIALS.accessKeyId) throw new AwsError("UnrecognizedClientException", "The security token included in the request is invalid.");
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const canonicalHeaders = signedHeaders
    .split(";")
    .map((h) => `${h}:${String(req.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalRequest = [req.method, "/", "", canonicalHeaders, signedHeaders, createHash("sha256").update(body).digest("hex")].join("\n");
  const scope = `${date}/${region}/kms/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  let k: Buffer = createHmac("sha256", `AWS4${AWS_TEST_CREDENTIALS.secretAccessKey}`).update(date).digest();
  for (const part of [region, "kms", "aws4_request"]) k = createHmac("sha256", k).update(part).digest();
  if (createHmac("sha256", k).update(toSign).digest("hex") !== signature) {
    throw new AwsError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
  }
}

function contextAad(context: Record<string, string> | undefined): Buffer {
  return Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))));
}

export interface AwsKmsDouble {
  endpoint: string;
  region: string;
  audit: AuditEntry[];
  createKey(): string;
  /** Automatic rotation: new backing key, same ARN; older blobs still decrypt. */
  rotateKey(arn: string): void;
  disableKey(arn: string): void;
  close(): Promise<void>;
}

export async function awsKmsDouble(): Promise<AwsKmsDouble> {
  const keys = new Map<string, AwsKey>();
  const audit: AuditEntry[] = [];
  const keyOf = (id: string | undefined): AwsKey => {
    const key = id ? keys.get(id) : undefined;
    if (!key) throw new AwsError("NotFoundException", `Key '${id}' does not exist`);
    if (!key.enabled) throw new AwsError("DisabledException", `${key.arn} is disabled.`);
    return key;
  };
  // Blob: 2-byte ARN length, ARN, 1-byte backing version, AES-GCM(iv ‖ ct ‖ tag).
  const encrypt = (key: AwsKey, plaintext: Buffer, context?: Record<string, string>) => {
    const arn = Buffer.from(key.arn);
    const head = Buffer.alloc(2);
    head.writeUInt16BE(arn.length);
    const version = key.versions.length - 1;
    return Buffer.concat([head, arn, Buffer.from([version]), gcm(key.versions[version], plaintext, contextAad(context))]);
  };
  const decrypt = (blob: Buffer, context: Record<string, string> | undefined, expectedKeyId?: string) => {
    const len = blob.length > 2 ? blob.readUInt16BE(0) : 0;
    const arn = blob.subarray(2, 2 + len).toString();
    if (!keys.has(arn)) throw new AwsError("InvalidCiphertextException", "");
    if (expectedKeyId && expectedKeyId !== arn) throw new AwsError("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.");
    const key = keyOf(arn);
    const backing = key.versions[blob[2 + len]];
    const plaintext = backing && ungcm(backing, blob.subarray(3 + len), contextAad(context));
    if (!plaintext) throw new AwsError("InvalidCiphertextException", "");
    return { key, plaintext };
  };

  const { server, url } = await listen((req, body, res) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.replace(/^TrentService\./, "");
    let input: Record<string, unknown> = {};
    const reply = (status: number, payload: unknown, type?: string) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...(type ? { "x-amzn-errortype": type } : {}) });
      res.end(JSON.stringify(payload));
    };
    try {
      if (req.method !== "POST" || req.url !== "/" || !target.startsWith("TrentService.")) throw new AwsError("UnknownOperationException", "");
      if (req.headers["content-type"] !== "application/x-amz-json-1.1") throw new AwsError("SerializationException", "wrong content type");
      verifySigV4(req, body);
      input = JSON.parse(body);
      const ctx = input.EncryptionContext as Record<string, string> | undefined;
      let out: Record<string, unknown>;
      switch (operation) {
        case "GenerateDataKeyWithoutPlaintext": {
          if (input.KeySpec !== "AES_256") throw new AwsError("ValidationException", "KeySpec");
          const key = keyOf(input.KeyId as string);
          out = { KeyId: key.arn, CiphertextBlob: encrypt(key, randomBytes(32), ctx).toString("base64") };
          break;
        }
        case "Decrypt": {
          const { key, plaintext } = decrypt(Buffer.from(input.CiphertextBlob as string, "base64"), ctx, input.KeyId as string | undefined);
          out = { KeyId: key.arn, Plaintext: plaintext.toString("base64"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
          break;
        }
        case "ReEncrypt": {
          const { key: source, plaintext } = decrypt(Buffer.from(input.CiphertextBlob as string, "base64"), input.SourceEncryptionContext as Record<string, string>);
          const dest = keyOf(input.DestinationKeyId as string);
          out = { SourceKeyId: source.arn, KeyId: dest.arn, CiphertextBlob: encrypt(dest, plaintext, input.DestinationEncryptionContext as Record<string, string>).toString("base64") };
          break;
        }
        default:
          throw new AwsError("UnknownOperationException", "");
      }
      audit.push({ operation, keyId: String(out.KeyId), context: ctx ?? (input.DestinationEncryptionContext as Record<string, string>), ok: true });
      reply(200, out);
    } catch (err) {
      const e = err instanceof AwsError ? err : new AwsError("KMSInternalException", String(err));
      audit.push({ operation, keyId: String(input.KeyId ?? input.DestinationKeyId ?? ""), context: input.EncryptionContext as Record<string, string>, ok: false });
      reply(400, { __type: e.type, message: e.message }, e.type);
    }
  });

  return {
    endpoint: url,
    region: REGION,
    audit,
    createKey() {
      const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${randomBytes(16).toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-")}`;
      keys.set(arn, { arn, enabled: true, versions: [randomBytes(32)] });
      return arn;
    },
    rotateKey: (arn) => void keys.get(arn)!.versions.push(randomBytes(32)),
    disableKey(arn) {
      keys.get(arn)!.enabled = false;
    },
    close: () => close(server),
  };
}

// ---------------------------------------------------------------------------------------------
// Vault Transit

interface TransitKey {
  versions: Buffer[];
  minDecryptionVersion: number;
}

export interface VaultDouble {
  address: string;
  audit: AuditEntry[];
  /** The service-account token Kubernetes would project, and the role it may log in with. */
  kubernetes: { role: string; jwt: string };
  createKey(name: string): void;
  rotateKey(name: string): void;
  setMinDecryptionVersion(name: string, version: number): void;
  /** Revokes every issued token (the next call gets 403, the client must log in again). */
  revokeTokens(): void;
  logins: number;
  close(): Promise<void>;
}

export async function vaultDouble(opts: { mount?: string } = {}): Promise<VaultDouble> {
  const mount = opts.mount ?? "transit";
  const keys = new Map<string, TransitKey>();
  const tokens = new Set<string>();
  const audit: AuditEntry[] = [];
  const kubernetes = { role: "web", jwt: `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString("base64url")}.sig` };
  const state = { logins: 0 };

  // Derived keys: each context gets its own key, as Vault's `derived=true` keys do.
  const derive = (key: Buffer, context: Buffer) => createHmac("sha256", key).update(context).digest();

  const { server, url } = await listen((req, body, res) => {
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const fail = (status: number, message: string) => reply(status, { errors: [message] });
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body || "{}");
    } catch {
      return fail(400, "failed to parse JSON input");
    }
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "POST") return fail(405, "unsupported operation");
    if (path === "/v1/auth/kubernetes/login") {
      if (input.role !== kubernetes.role || input.jwt !== kubernetes.jwt) return fail(403, "permission denied");
      const token = `hvs.${randomBytes(18).toString("base64url")}`;
      tokens.add(token);
      state.logins += 1;
      return reply(200, { auth: { client_token: token, lease_duration: 3600, renewable: true } });
    }
    if (!tokens.has(String(req.headers["x-vault-token"] ?? ""))) return fail(403, "permission denied");
    const m = new RegExp(`^/v1/${mount}/(datakey/wrapped|decrypt|rewrap)/([\\w.-]+)$`).exec(path);
    if (!m) return fail(404, "no handler for route");
    const [, operation, name] = m;
    const key = keys.get(name);
    if (!key) return fail(400, "encryption key not found");
    const contextB64 = String(input.context ?? "");
    if (!contextB64) return fail(400, "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key");
    const context = Buffer.from(contextB64, "base64");
    const record = (ok: boolean) => audit.push({ operation, keyId: name, context: JSON.parse(context.toString() || "{}"), ok });

    const seal = (plaintext: Buffer) => {
      const v = key.versions.length;
      return `vault:v${v}:${gcm(derive(key.versions[v - 1], context), plaintext, Buffer.alloc(0)).toString("base64")}`;
    };
    const unseal = (ciphertext: string): Buffer | string => {
      const cm = /^vault:v(\d+):([A-Za-z0-9+/=]+)$/.exec(ciphertext);
      if (!cm) return "invalid ciphertext: no prefix";
      const v = Number(cm[1]);
      if (v < key.minDecryptionVersion) return "ciphertext or signature version is disallowed by policy (too old)";
      if (v < 1 || v > key.versions.length) return "invalid ciphertext: version is too new";
      return ungcm(derive(key.versions[v - 1], context), Buffer.from(cm[2], "base64"), Buffer.alloc(0)) ?? "cipher: message authentication failed";
    };

    if (operation === "datakey/wrapped") {
      const bits = Number(input.bits ?? 256);
      if (![128, 256, 512].includes(bits)) return fail(400, "invalid bit length");
      record(true);
      return reply(200, { data: { ciphertext: seal(randomBytes(bits / 8)), key_version: key.versions.length } });
    }
    const plaintext = unseal(String(input.ciphertext ?? ""));
    if (typeof plaintext === "string") {
      record(false);
      return fail(400, plaintext);
    }
    record(true);
    if (operation === "decrypt") return reply(200, { data: { plaintext: plaintext.toString("base64") } });
    return reply(200, { data: { ciphertext: seal(plaintext), key_version: key.versions.length } });
  });

  return {
    address: url,
    audit,
    kubernetes,
    createKey: (name) => void keys.set(name, { versions: [randomBytes(32)], minDecryptionVersion: 1 }),
    rotateKey: (name) => void keys.get(name)!.versions.push(randomBytes(32)),
    setMinDecryptionVersion(name, version) {
      keys.get(name)!.minDecryptionVersion = version;
    },
    revokeTokens: () => tokens.clear(),
    get logins() {
      return state.logins;
    },
    close: () => close(server),
  };
}
