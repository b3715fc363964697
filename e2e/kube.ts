// A minimal Kubernetes API client for the e2e checks, from a kubeconfig context: client certificate or
// bearer token, the cluster's CA. Only what the scenarios need (GET, LIST, dry-run server-side apply).
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as YAML from "yaml";

interface KubeconfigDoc {
  clusters?: { name: string; cluster: Record<string, string | boolean> }[];
  users?: { name: string; user: Record<string, string> }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [key: string]: unknown;
}

export class KubeClient {
  private readonly agent: https.Agent;
  private readonly server: URL;
  private readonly token?: string;

  constructor(kubeconfig: string, context: string) {
    const doc = YAML.parse(fs.readFileSync(kubeconfig, "utf8")) as KubeconfigDoc;
    const ctx = doc.contexts?.find((c) => c.name === context);
    if (!ctx) throw new Error(`kubeconfig ${kubeconfig} has no context "${context}"`);
    const cluster = doc.clusters?.find((c) => c.name === ctx.context.cluster)?.cluster;
    const user = doc.users?.find((u) => u.name === ctx.context.user)?.user ?? {};
    if (!cluster) throw new Error(`kubeconfig ${kubeconfig}: context "${context}" names no known cluster`);
    const base = path.dirname(kubeconfig);
    const read = (data: string | undefined, file: string | undefined) =>
      data ? Buffer.from(data, "base64") : file ? fs.readFileSync(path.resolve(base, file)) : undefined;
    this.server = new URL(String(cluster.server));
    this.token = user.token;
    this.agent = new https.Agent({
      ca: read(cluster["certificate-authority-data"] as string, cluster["certificate-authority"] as string),
      cert: read(user["client-certificate-data"], user["client-certificate"]),
      key: read(user["client-key-data"], user["client-key"]),
      rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    });
  }

  request(method: string, apiPath: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; body: any }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(apiPath, this.server),
        {
          method,
          agent: this.agent,
          headers: {
            Accept: "application/json",
            ...(payload ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) } : {}),
            ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (c: string) => (text += c));
          res.on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON: keep the text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${apiPath}: timed out`)));
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  async list(apiPath: string): Promise<KubeObject[]> {
    const r = await this.request("GET", apiPath);
    if (r.status === 404) return [];
    if (r.status !== 200) throw new Error(`GET ${apiPath}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return (r.body.items ?? []) as KubeObject[];
  }

  /**
   * Server-side apply of `obj` as a dry run with strict field validation: the API server's verdict on
   * every field (an unknown or duplicated field is an error, not a warning). Returns the problem, or
   * undefined when accepted.
   */
  async strictDryRunApply(obj: KubeObject): Promise<string | undefined> {
    const r = await this.request(
      "PATCH",
      `${objectPath(obj, await this.resourceOf(obj))}?dryRun=All&fieldValidation=Strict&fieldManager=e2e-strict-check&force=true`,
      obj,
      "application/apply-patch+yaml",
    );
    return r.status >= 200 && r.status < 300 ? undefined : `${r.status} ${r.body?.message ?? JSON.stringify(r.body).slice(0, 300)}`;
  }

  private readonly discovery = new Map<string, Map<string, { name: string; namespaced: boolean }>>();

  /** Plural name and scope of `obj`'s kind, from the API server's discovery. */
  async resourceOf(obj: KubeObject): Promise<{ name: string; namespaced: boolean }> {
    const gv = obj.apiVersion;
    let kinds = this.discovery.get(gv);
    if (!kinds) {
      const r = await this.request("GET", gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`);
      if (r.status !== 200) throw new Error(`the API server does not serve ${gv} (${r.status})`);
      kinds = new Map();
      for (const res of r.body.resources as { name: string; kind: string; namespaced: boolean }[]) {
        if (!res.name.includes("/")) kinds.set(res.kind, { name: res.name, namespaced: res.namespaced });
      }
      this.discovery.set(gv, kinds);
    }
    const found = kinds.get(obj.kind);
    if (!found) throw new Error(`the API server serves no ${obj.kind} in ${gv}`);
    return found;
  }
}

/** The object's URL path: `/apis/<group>/<version>[/namespaces/<ns>]/<plural>/<name>`. */
export function objectPath(obj: KubeObject, resource: { name: string; namespaced: boolean }): string {
  const root = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = resource.namespaced ? `/namespaces/${obj.metadata.namespace ?? "default"}` : "";
  return `${root}${ns}/${resource.name}/${obj.metadata.name}`;
}
