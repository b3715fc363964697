/**
 * What the server answers itself, before Next.js sees a request: the health probes (no framework
 * pipeline on the liveness path), and every request target that is not an ordinary path of the
 * application, refused with a 4xx. Next.js answers some of those with a 500 (`/_global-error`,
 * `GET *`), with a redirect to the host the client named (absolute-form targets), or through a
 * route it resolved after normalising dot segments: none of that may reach the framework, the
 * error-rate series or the error logs.
 */
export type Verdict =
  | { kind: "liveness" }
  | { kind: "readiness" }
  | { kind: "app" }
  | { kind: "reject"; status: 400 | 404 | 405; reason: string; allow?: string };

export const LIVENESS_PATH = "/api/health";
export const READINESS_PATH = "/api/health/ready";

const PROBE_METHODS = "GET, HEAD";
/** Percent-encoded dot (`%2e`), in any case. */
const DOT = "(?:\\.|%2[eE])";
const DOT_SEGMENT = new RegExp(`(?:^|/)${DOT}{1,2}(?:/|$)`);

function reject(status: 400 | 404 | 405, reason: string, allow?: string): Verdict {
  return allow ? { kind: "reject", status, reason, allow } : { kind: "reject", status, reason };
}

export function classify(method: string | undefined, target: string | undefined): Verdict {
  if (!target) return reject(400, "empty-target");
  // `OPTIONS *`, `GET *`: asterisk-form, meaningful only for the server as a whole.
  if (target === "*") return reject(400, "asterisk-form");
  // `GET http://other.example/`: absolute-form is for proxies; the edge always sends origin-form.
  if (!target.startsWith("/")) return reject(400, "absolute-form");
  const path = target.split("?", 1)[0];
  // `//host/…` reads as a network-path reference to browsers and redirect logic.
  if (path.startsWith("//")) return reject(400, "network-path");
  if (path.includes("\\") || /%5c/i.test(path)) return reject(400, "backslash");
  // `/api/monitoring/./metrics`, `/_next/../x`: a normalised path is the only spelling we route.
  if (DOT_SEGMENT.test(path)) return reject(400, "dot-segment");

  let first: string;
  try {
    first = decodeURIComponent(path.split("/", 2)[1] ?? "");
  } catch {
    return reject(400, "bad-encoding");
  }
  // Next.js's internal pages (`/_global-error`, `/_not-found`, `/_error`, `/_app`…) are rendered by
  // the framework when it needs them, never requested; `/_next/` serves the build's assets.
  if (first.startsWith("_") && first !== "_next") return reject(404, "framework-internal");
  const lower = path.toLowerCase();
  // Metrics live on the metrics port only: no spelling of the old route reaches the app.
  if (lower === "/api/monitoring" || lower.startsWith("/api/monitoring/") || lower.startsWith("/api/monitoring%2f")) return reject(404, "private");

  const m = (method ?? "").toUpperCase();
  if (m === "TRACE") return reject(405, "method");
  if (path === LIVENESS_PATH) return m === "GET" || m === "HEAD" ? { kind: "liveness" } : reject(405, "method", PROBE_METHODS);
  if (path === READINESS_PATH) return m === "GET" || m === "HEAD" ? { kind: "readiness" } : reject(405, "method", PROBE_METHODS);
  return { kind: "app" };
}
