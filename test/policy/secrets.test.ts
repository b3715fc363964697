import { describe, expect, it } from "vitest";
import { noSecretLiterals, stackOutputsNoSecrets } from "../../policy/controls/secrets";
import { isSecretKeyName, renderValue, tokenShapeIn } from "../../policy/lib/secrets";
import { cachedPlan } from "../harness";
import { deployment, evaluate, k8s, messages } from "./harness";

const NS = "diaspomoney-prod";
// Built at run time so that no credential-shaped literal sits in the repository.
const SLACK = ["https://hooks.slack.com/services", "T000", "B000", "x".repeat(24)].join("/");
const AWS_KEY = `AKIA${"ABCDEFGHIJKLMNOP"}`;

describe("secret recognition", () => {
  it("recognises credential key names but not references to Secrets", () => {
    expect(["password", "adminPassword", "SMTP_PASSWORD", "smtp_auth_password", "apiKey", "api_key", "SENTRY_DSN", "routing_key", "JWT_SECRET", "clientSecret", "FIELD_ENCRYPTION_KEY"].filter(isSecretKeyName)).toHaveLength(11);
    expect(["existingSecret", "passwordSecret", "credentialsSecret", "secretName", "smtp_auth_password_file", "tokenSecretRef", "KAFKA_SASL_MECHANISM", "secret", "key"].filter(isSecretKeyName)).toEqual([]);
  });

  it("recognises credential shapes", () => {
    expect(tokenShapeIn(`url: ${SLACK}`)).toBe("Slack webhook");
    expect(tokenShapeIn(AWS_KEY)).toBe("AWS access key id");
    expect(tokenShapeIn("mongodb://app:hunter2@mongo:27017/db")).toBe("URL with embedded password");
    expect(tokenShapeIn("mongodb://app:[secret]@mongo:27017/db")).toBeUndefined();
    expect(tokenShapeIn("https://grafana.diaspomoney.fr")).toBeUndefined();
  });

  it("never renders a secret value", () => {
    expect(renderValue("env[0].value", "[secret]")).toBe("[secret]");
    expect(renderValue("data.SMTP_PASSWORD", "hunter2")).toBe("[redacted, 7 characters]");
    expect(renderValue("values.slack", SLACK)).toBe(`[redacted, ${SLACK.length} characters]`);
    expect(renderValue("values", { smtp: { password: "hunter2", host: "smtp" } })).toBe('{"smtp":{"password":"[redacted, 7 characters]","host":"smtp"}}');
  });
});

describe("no-secret-literals", () => {
  it("passes env from secretKeyRef, plain settings, and Secrets holding their payload", async () => {
    const web = deployment("web", (pod) => pod.containers[0].env.push({ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "data-connections", key: "REDIS_PASSWORD" } } }));
    const secret = k8s("kubernetes:core/v1:Secret", "data-connections", NS, { stringData: { REDIS_PASSWORD: "[secret]", MONGODB_URI: "[secret]" } });
    const chart = { type: "kubernetes:helm.sh/v4:Chart", name: "monitoring", inputs: { chart: "kube-prometheus-stack", version: "88.5.3", values: { grafana: { admin: { existingSecret: "grafana-admin" } } } } };
    const r = await evaluate(noSecretLiterals, [web, secret, chart]);
    expect(r.status).toBe("pass");
  });

  it("fails an env literal, an inlined Pulumi secret, a ConfigMap credential and a credential-bearing config file, without showing them", async () => {
    const web = deployment("web", (pod) => pod.containers[0].env.push({ name: "SMTP_PASSWORD", value: "hunter2" }, { name: "MONGODB_URI", value: "[secret]" }));
    const cm = k8s("kubernetes:core/v1:ConfigMap", "app-config", NS, { data: { API_KEY: "abc123", "alertmanager.yml": "global:\n  smtp_auth_password: hunter2\n  smtp_auth_password_file: /etc/secret\n" } });
    const r = await evaluate(noSecretLiterals, [web, cm]);
    expect(messages(r)).toEqual([
      expect.stringMatching(/^Deployment diaspomoney-prod\/web: spec\.template\.spec\.containers\[0\]\.env\[1\]\.value is \[redacted, 7 characters\]; env SMTP_PASSWORD holds a credential literal; use valueFrom\.secretKeyRef \[PCI-DSS 8\.6\.2/),
      expect.stringContaining("env[2].value is [secret]; env MONGODB_URI inlines a Pulumi secret into the pod spec"),
      expect.stringContaining("ConfigMap diaspomoney-prod/app-config: data.API_KEY is [redacted, 6 characters]; a ConfigMap must not hold a credential"),
      expect.stringContaining('data.alertmanager.yml is "(file with smtp_auth_password)"'),
    ]);
    expect(JSON.stringify(r)).not.toContain("hunter2");
  });

  it("fails secrets in Helm values, even marked ones, and credential shapes in any resource", async () => {
    const chart = { type: "kubernetes:helm.sh/v4:Chart", name: "monitoring", inputs: { chart: "kube-prometheus-stack", version: "88.5.3", values: { grafana: { adminPassword: "[secret]" }, alertmanager: { config: { global: { slack_api_url: SLACK } } } } } };
    const record = { type: "cloudflare:index/dnsRecord:DnsRecord", name: "txt", inputs: { zoneId: "z", type: "TXT", content: AWS_KEY } };
    const r = await evaluate(noSecretLiterals, [chart, record]);
    expect(messages(r)).toEqual([
      expect.stringContaining('Chart "monitoring": values.grafana.adminPassword is [secret]; a secret in Helm values ends up in clear'),
      expect.stringContaining("values.alertmanager.config.global.slack_api_url is [redacted"),
      expect.stringContaining('DnsRecord "txt": content is [redacted, 20 characters]; a AWS access key id must live in a Secret'),
    ]);
    expect(JSON.stringify(r)).not.toContain(AWS_KEY);
  });
});

describe("stack-outputs-no-secrets", () => {
  it("passes outputs whose credentials are marked secret", async () => {
    const r = await evaluate(stackOutputsNoSecrets, [], undefined, { data: { connectionString: "[secret]", host: "mongo" }, edge: { monitoringCredentials: { username: "ops", password: "[secret]" } } });
    expect(r.status).toBe("pass");
    expect(r.evidence[0].value).toBe('"4 strings, 2 marked secret"');
  });

  it.each(["dev", "rct", "prod"])("holds for %s's outputs as the real analyzer sees them: secrets unwrapped to their values", async (stack) => {
    // Found by the real engine: @pulumi/policy hands a stack's outputs to the pack with every secret
    // unwrapped, so a password exported with pulumi.secret() reads like a plain one. The outputs must
    // hold no secret at all; where a credential is, they name its Secret.
    const unwrapped = (v: unknown): unknown =>
      v === "[secret]" ? "q7Vn2x9LmZr4Tb8Kc1Wd6Hs3Jf5Gp0Ya" : Array.isArray(v) ? v.map(unwrapped) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapped(x)])) : v;
    const outputs = unwrapped((await cachedPlan(stack)).outputs) as Record<string, unknown>;
    const r = await evaluate(stackOutputsNoSecrets, [], undefined, outputs);
    expect(messages(r)).toEqual([]);
    expect(r.status).toBe("pass");
    expect((outputs.edge as any).monitoringCredentials).toEqual({ username: "ops", secret: `diaspomoney-${stack}/basic-auth-login` });
  });

  it("fails an unmarked password, a credential shape, and any secret in the compliance output", async () => {
    const r = await evaluate(stackOutputsNoSecrets, [], undefined, { edge: { adminPassword: "hunter2", webhook: SLACK }, compliance: { backupKey: "[secret]" } });
    expect(messages(r)).toEqual([
      expect.stringMatching(/^Stack "diaspomoney-platform-test": outputs\.edge\.adminPassword is \[redacted, 7 characters\]; a credential-named output must be a Pulumi secret/),
      expect.stringContaining("outputs.edge.webhook is [redacted"),
      expect.stringContaining("outputs.compliance.backupKey is [secret]; the compliance output must carry no secret at all"),
    ]);
  });
});
