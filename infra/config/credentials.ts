/**
 * What a secret looks like, for the two places that must never show one: configuration error
 * messages and the files `npm run plan` writes. Pure functions, no Pulumi.
 *
 * Two signals, either of which is enough:
 * - the key's name says it holds a secret (`…Token`, `…Password`, `…Secret`, `…ApiKey`, …);
 * - the value has the shape of a credential: a URL with a password in it, a cloud access key, a
 *   private key, a provider token, a chat webhook URL, a JWT.
 * Shapes are the ones secret scanners (gitleaks, GitHub secret scanning) look for; each is specific
 * enough that a hostname, an image digest or a CIDR never matches.
 * Each runs in linear time: a lookbehind, not `\b`, anchors the patterns that start with a repeated
 * class (with `\b`, text such as `a.a.a.a…` made the URL pattern quadratic).
 */

/** Key names that hold secrets, whatever their spelling (`cloudflareApiTokn` included). */
const SECRET_KEY_NAME = /(pas+w|pwd|passphrase|secret|token|tokn|api[-_]?key|apikey|private[-_]?key|privatekey|credential|auth[-_]?key|access[-_]?key|signing[-_]?key|webhook|dsn|cookie|session[-_]?key)/i;

export function isSecretLookingKey(key: string): boolean {
  return SECRET_KEY_NAME.test(key);
}

interface Shape {
  kind: string;
  pattern: RegExp;
}

/** Credential shapes, each named for the message ("a URL with a password"), never shown. */
const SHAPES: readonly Shape[] = [
  // scheme://user:password@host — userinfo with a password component.
  { kind: "a URL with a user and password", pattern: /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]+:[^\s/@"'<>]+@[^\s/"'<>]/i },
  { kind: "an AWS access key id", pattern: /\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/ },
  { kind: "a private key", pattern: /-----BEGIN ([A-Z]+ )*PRIVATE KEY( BLOCK)?-----/ },
  { kind: "a GitHub token", pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/ },
  { kind: "a Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { kind: "a Slack webhook URL", pattern: /https:\/\/hooks\.slack\.com\/(services|workflows|triggers)\/[A-Za-z0-9/_-]{20,}/ },
  { kind: "a Discord webhook URL", pattern: /https:\/\/(?:[a-z]+\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]{20,}/ },
  { kind: "a Microsoft Teams webhook URL", pattern: /https:\/\/[a-z0-9-]+\.webhook\.office\.com\/webhookb2\/\S{20,}/i },
  { kind: "a Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: "a Stripe secret key", pattern: /\b(sk|rk)_(live|test)_[0-9A-Za-z]{16,}\b/ },
  { kind: "a JSON Web Token", pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { kind: "a PagerDuty or OpsGenie integration key in a URL", pattern: /https:\/\/events\.pagerduty\.com\/integration\/[a-f0-9]{32}\//i },
  { kind: "a password query parameter", pattern: /[?&](password|passwd|pwd|secret|token|access_token|api_key|apikey|sig)=[^&\s"']{4,}/i },
];

/** The kind of credential `text` holds, or undefined. Never returns the credential itself. */
export function credentialKind(text: string): string | undefined {
  for (const s of SHAPES) if (s.pattern.test(text)) return s.kind;
  return undefined;
}

/** Every credential kind found in `text`, once each. */
export function credentialKinds(text: string): string[] {
  return SHAPES.filter((s) => s.pattern.test(text)).map((s) => s.kind);
}

/** Every string leaf of a JSON-like value, for scanning structured config values. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** The credential kind found anywhere in a (possibly structured) value. */
export function credentialKindIn(value: unknown): string | undefined {
  for (const s of strings(value)) {
    const kind = credentialKind(s);
    if (kind) return kind;
  }
  return undefined;
}

/**
 * How an error message may show a value: not at all when the key is stored as a secret, is named
 * like one, or the value looks like a credential; otherwise `show(value)`.
 */
export function maskedValue(key: string, value: unknown, opts: { storedSecret: boolean }, show: (v: unknown) => string): string {
  if (value === undefined) return show(value);
  if (opts.storedSecret) return "(secret value hidden)";
  if (isSecretLookingKey(key)) return "(value hidden: the key names a secret)";
  const kind = credentialKindIn(value);
  if (kind) return `(value hidden: it looks like ${kind})`;
  return show(value);
}
