import type { KMSClient } from "@aws-sdk/client-kms";
import { DATA_KEY_BYTES } from "./cipher";
import { bindingContext, KmsError, type DataKeyBinding, type Kms } from "./kms";

/**
 * The SDK, loaded on the first call: about a tenth of what the server loads at start-up, which a
 * process whose KMS is Vault Transit or local (and the keys tool's dev-env) never needs.
 */
const sdk = () => import("@aws-sdk/client-kms");

export interface AwsKmsOptions {
  /** Key ARN (or alias ARN) of the symmetric master key, e.g. in eu-west-3 (Paris). */
  keyId: string;
  region: string;
  /** A VPC endpoint, or a local double in tests. Default: the SDK's regional endpoint. */
  endpoint?: string;
  /** Bound of one call, connection included. Default 3000 ms. */
  timeoutMs?: number;
  /** Tests pass a client; otherwise one is built with the SDK's default credential chain (IRSA, Pod Identity, environment). */
  client?: KMSClient;
}

/**
 * AWS KMS through the official SDK (@aws-sdk/client-kms). Data keys are generated inside KMS
 * (GenerateDataKeyWithoutPlaintext): the plaintext key first exists in the pod that unwraps it.
 * The binding is the encryption context: CloudTrail records it with every Decrypt, which is the
 * audit trail of key use. Rewrapping (ReEncrypt) happens inside KMS, to the configured key:
 * automatic yearly rotation of the same key needs no rewrap; moving to a new key does.
 *
 * Wrapped form: the CiphertextBlob in standard base64, as the AWS CLI prints it.
 */
export class AwsKms implements Kms {
  readonly provider = "aws-kms" as const;
  readonly keyRef: string;
  private client?: Promise<KMSClient>;

  constructor(private readonly opts: AwsKmsOptions) {
    if (!opts.keyId) throw new KmsError("FIELD_ENCRYPTION_KMS_KEY (the KMS key ARN) is not set", "not-configured");
    if (!opts.region) throw new KmsError("AWS_REGION is not set", "not-configured");
    this.keyRef = opts.keyId;
  }

  /** The client given, or one built on first use with the SDK's default credential chain. */
  private kms(): Promise<KMSClient> {
    const { client, region, endpoint, timeoutMs = 3000 } = this.opts;
    return (this.client ??= client
      ? Promise.resolve(client)
      : sdk().then(
          ({ KMSClient }) =>
            new KMSClient({
              region,
              ...(endpoint ? { endpoint } : {}),
              maxAttempts: 2,
              requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
            }),
        ));
  }

  async generateDataKey(binding: DataKeyBinding): Promise<string> {
    const out = await this.call("GenerateDataKeyWithoutPlaintext", ({ GenerateDataKeyWithoutPlaintextCommand }, client) =>
      client.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: this.opts.keyId, KeySpec: "AES_256", EncryptionContext: bindingContext(binding) })),
    );
    return Buffer.from(out.CiphertextBlob!).toString("base64");
  }

  async unwrap(wrapped: string, binding: DataKeyBinding): Promise<Buffer> {
    const out = await this.call("Decrypt", ({ DecryptCommand }, client) =>
      // KeyId pins the master key: a blob wrapped by any other key is refused, even one this role may use.
      client.send(new DecryptCommand({ KeyId: this.opts.keyId, CiphertextBlob: blob(wrapped), EncryptionContext: bindingContext(binding) })),
    );
    const key = Buffer.from(out.Plaintext!);
    if (key.length !== DATA_KEY_BYTES) throw new KmsError(`KMS returned a ${key.length}-byte key`, "InvalidKeyLength");
    return key;
  }

  async rewrap(wrapped: string, binding: DataKeyBinding): Promise<string> {
    const context = bindingContext(binding);
    const out = await this.call("ReEncrypt", ({ ReEncryptCommand }, client) =>
      client.send(
        new ReEncryptCommand({ CiphertextBlob: blob(wrapped), SourceEncryptionContext: context, DestinationKeyId: this.opts.keyId, DestinationEncryptionContext: context }),
      ),
    );
    return Buffer.from(out.CiphertextBlob!).toString("base64");
  }

  private async call<T>(operation: string, send: (sdk: typeof import("@aws-sdk/client-kms"), client: KMSClient) => Promise<T>): Promise<T> {
    try {
      const [commands, client] = await Promise.all([sdk(), this.kms()]);
      return await send(commands, client);
    } catch (err) {
      const code = (err as { name?: string }).name ?? "error";
      throw new KmsError(`AWS KMS ${operation} failed: ${code}`, code, { cause: err });
    }
  }
}

function blob(wrapped: string): Uint8Array {
  const bytes = Buffer.from(wrapped, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(wrapped) || bytes.toString("base64") !== wrapped) throw new KmsError("wrapped key is not canonical base64", "InvalidCiphertext");
  return bytes;
}
