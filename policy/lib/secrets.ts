/**
 * Recognising secrets: by the name of the key that holds them and by the shape of well-known
 * credentials. Used both to find secrets where they must not be and to keep them out of messages.
 */

/** How the offline plan shows a Pulumi secret. */
export const SECRET_MARKER = "[secret]";

/** Words a key ends with when it holds a credential (`adminPassword`, `SMTP_PASSWORD`, `sentryDsn`). */
const SECRET_LAST_WORDS = new Set(["password", "passwd", "pwd", "passphrase", "token", "apikey", "dsn", "credential", "credentials"]);
/**
 * Two-word endings (`api_key`, `privateKey`, `routing_key`, `webhook_url`). A lone `secret` is not
 * enough: charts and CRDs use `credentialsSecret`, `tls.secret` for the *name* of a Secret.
 */
const SECRET_LAST_PAIRS = new Set([
  "api key",
  "private key",
  "access key",
  "secret key",
  "routing key",
  "service key",
  "webhook url",
  "auth token",
  "bearer token",
  "client secret",
  "shared secret",
  "jwt secret",
  "session secret",
  "cookie secret",
  "hmac secret",
  "signing secret",
  "webhook secret",
  "encryption key",
  "signing key",
]);
/** First words that make the key a reference to a secret rather than the secret (`existingSecret`). */
const REFERENCE_FIRST_WORDS = new Set(["existing", "use", "create"]);

/** Splits `smtp_auth_password`, `adminPassword`, `SENTRY_DSN`, `api-key` into lower-case words. */
export function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** True when a key's name says it holds a credential (not a reference to one, not a file path). */
export function isSecretKeyName(key: string): boolean {
  const w = words(key);
  if (w.length === 0) return false;
  if (REFERENCE_FIRST_WORDS.has(w[0])) return false;
  const last = w[w.length - 1];
  if (SECRET_LAST_WORDS.has(last)) return true;
  return w.length >= 2 && SECRET_LAST_PAIRS.has(`${w[w.length - 2]} ${last}`);
}

/** Shapes of credentials that are never legitimate outside a Secret, whatever the key. */
export const TOKEN_SHAPES: { name: string; pattern: RegExp }[] = [
  { name: "offline placeholder of a secure config value", pattern: /offline-placeholder-for-[A-Za-z0-9-]+/ },
  { name: "private key (PEM)", pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
  { name: "AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: "Slack webhook", pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/ },
  { name: "Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { name: "GitHub token", pattern: /\b(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}/ },
  { name: "Sentry DSN", pattern: /https:\/\/[0-9a-f]{32}(?::[0-9a-f]{32})?@[A-Za-z0-9.-]+\/\d+/ },
  { name: "JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { name: "Stripe secret key", pattern: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/ },
  // `scheme://user:password@host`, unless the password part is the secret marker or empty.
  { name: "URL with embedded password", pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:(?!\[secret\]@)[^\s/@]+@[^\s]+/i },
];

/** The first token shape `text` contains, if any. */
export function tokenShapeIn(text: string): string | undefined {
  return TOKEN_SHAPES.find((t) => t.pattern.test(text))?.name;
}

/** What a credential becomes in messages and reports. */
export function redact(value: string): string {
  return `[redacted, ${value.length} characters]`;
}

/**
 * Renders a value for messages and reports, never showing a secret: values under secret-looking keys
 * and strings with a credential shape are replaced by their length.
 */
export function renderValue(property: string, value: unknown): string {
  if (value === undefined) return "(not set)";
  const leaf = property.split(/[.[\]]/).filter(Boolean).pop() ?? property;
  if (typeof value === "string") {
    if (value === SECRET_MARKER || /^\[redacted, \d+ characters\]$/.test(value)) return value;
    if (isSecretKeyName(leaf) || tokenShapeIn(value)) return redact(value);
  }
  const text = JSON.stringify(maskDeep(value));
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function maskDeep(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (value === SECRET_MARKER) return value;
    return (key && isSecretKeyName(key)) || tokenShapeIn(value) ? redact(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, key));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, k)]));
  return value;
}
