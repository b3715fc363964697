import { readFile } from "node:fs/promises";
import { DATA_KEY_BYTES } from "./cipher";
import { bindingContext, KmsError, type DataKeyBinding, type Kms } from "./kms";

/** How the app logs in to Vault. */
export type VaultAuth =
  | { token: string }
  /** A file a Vault Agent sidecar keeps fresh; read again after a 403. */
  | { tokenFile: string }
  /** Vault's Kubernetes auth method with a projected service-account token (audience `vault`). */
  | { kubernetes: { role: string; jwtFile: string; mount?: string } };

export interface VaultTransitOptions {
  /** `https://vault.example.eu:8200`. A private CA is given to Node with NODE_EXTRA_CA_CERTS. */
  address: string;
  /** Transit key name. It must be created with `derived=true`: the binding is its derivation context. */
  key: string;
  /** Mount path of the Transit engine. Default `transit`. */
  mount?: string;
  /** Vault Enterprise / HCP namespace. */
  namespace?: string;
  auth: VaultAuth;
  /** Bound of one HTTP call. Default 3000 ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const WRAPPED = /^vault:v\d+:[A-Za-z0-9+/]+={0,2}$/;
const NAME = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;

/**
 * HashiCorp Vault's Transit engine over its HTTP API (there is no official Node client; Vault's
 * API is the contract). Data keys come from `datakey/wrapped` (the plaintext never leaves Vault
 * there), unwrapping is `decrypt`, and after `transit/keys/<key>/rotate` a `rewrap` moves a wrapped
 * key to the newest key version inside Vault. The binding is the key-derivation context, so each
 * data key is wrapped under its own derived key and cannot be unwrapped under another label.
 */
export class VaultTransitKms implements Kms {
  readonly provider = "vault-transit" as const;
  readonly keyRef: string;
  private readonly base: string;
  private readonly mount: string;
  private readonly doFetch: typeof fetch;
  private token: Promise<string> | undefined;

  constructor(private readonly opts: VaultTransitOptions) {
    if (!opts.address) throw new KmsError("VAULT_ADDR is not set", "not-configured");
    let url: URL;
    try {
      url = new URL(opts.address);
    } catch {
      throw new KmsError("VAULT_ADDR is not a URL", "misconfigured");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new KmsError("VAULT_ADDR must be an http(s) URL", "misconfigured");
    if (url.username || url.password) throw new KmsError("VAULT_ADDR must not carry credentials", "misconfigured");
    this.mount = opts.mount ?? "transit";
    if (!NAME.test(this.mount) || !NAME.test(opts.key ?? "")) throw new KmsError("the Transit mount and key must be Vault path names", "misconfigured");
    this.base = url.origin + url.pathname.replace(/\/+$/, "");
    this.keyRef = `${this.base}/v1/${this.mount}/keys/${opts.key}`;
    this.doFetch = opts.fetch ?? fetch;
  }

  async generateDataKey(binding: DataKeyBinding): Promise<string> {
    const data = await this.transit("datakey/wrapped", { context: context(binding), bits: DATA_KEY_BYTES * 8 });
    return wrappedFrom(data);
  }

  async unwrap(wrapped: string, binding: DataKeyBinding): Promise<Buffer> {
    checkWrapped(wrapped);
    const data = await this.transit("decrypt", { ciphertext: wrapped, context: context(binding) });
    const key = Buffer.from(String(data.plaintext ?? ""), "base64");
    if (key.length !== DATA_KEY_BYTES) throw new KmsError(`Vault returned a ${key.length}-byte key`, "InvalidKeyLength");
    return key;
  }

  async rewrap(wrapped: string, binding: DataKeyBinding): Promise<string> {
    checkWrapped(wrapped);
    return wrappedFrom(await this.transit("rewrap", { ciphertext: wrapped, context: context(binding) }));
  }

  private async transit(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const path = `/v1/${this.mount}/${operation}/${this.opts.key}`;
    let res = await this.post(path, body, await this.currentToken());
    if (res.status === 403 && !("token" in this.opts.auth)) {
      // The token expired or was revoked: log in (or read the agent's file) again, once.
      this.token = undefined;
      res = await this.post(path, body, await this.currentToken());
    }
    return this.data(res, operation);
  }

  private currentToken(): Promise<string> {
    this.token ??= this.login().catch((err) => {
      this.token = undefined;
      throw err;
    });
    return this.token;
  }

  private async login(): Promise<string> {
    const auth = this.opts.auth;
    if ("token" in auth) return auth.token;
    if ("tokenFile" in auth) return (await readFile(auth.tokenFile, "utf8")).trim();
    const jwt = (await readFile(auth.kubernetes.jwtFile, "utf8")).trim();
    const res = await this.post(`/v1/auth/${auth.kubernetes.mount ?? "kubernetes"}/login`, { role: auth.kubernetes.role, jwt });
    const body = (await this.json(res, "login")) as { auth?: { client_token?: string } };
    const token = body.auth?.client_token;
    if (!token) throw new KmsError("Vault login returned no token", "login");
    return token;
  }

  private async post(path: string, body: unknown, token?: string): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers["x-vault-token"] = token;
    if (this.opts.namespace) headers["x-vault-namespace"] = this.opts.namespace;
    try {
      return await this.doFetch(`${this.base}${path}`, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(this.opts.timeoutMs ?? 3000) });
    } catch (err) {
      const code = (err as { name?: string }).name === "TimeoutError" ? "timeout" : "unreachable";
      throw new KmsError(`Vault ${path.split("/").slice(2, 4).join("/")} failed: ${code}`, code, { cause: err });
    }
  }

  private async json(res: Response, operation: string): Promise<Record<string, unknown>> {
    let body: Record<string, unknown> = {};
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      // a proxy's HTML error page, an empty 204: the status says enough
    }
    if (!res.ok) {
      const first = Array.isArray(body.errors) ? String(body.errors[0] ?? "").slice(0, 200) : "";
      throw new KmsError(`Vault ${operation} failed: HTTP ${res.status}${first ? ` (${first})` : ""}`, `http-${res.status}`);
    }
    return body;
  }

  private async data(res: Response, operation: string): Promise<Record<string, unknown>> {
    const body = await this.json(res, operation);
    return (body.data ?? {}) as Record<string, unknown>;
  }
}

function context(b: DataKeyBinding): string {
  return Buffer.from(JSON.stringify(bindingContext(b)), "utf8").toString("base64");
}

function checkWrapped(wrapped: string): void {
  if (!WRAPPED.test(wrapped)) throw new KmsError("not a Vault Transit ciphertext (vault:v<n>:…)", "InvalidCiphertext");
}

function wrappedFrom(data: Record<string, unknown>): string {
  const ciphertext = String(data.ciphertext ?? "");
  checkWrapped(ciphertext);
  return ciphertext;
}
