import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { credentialKind, credentialKinds, isSecretLookingKey, maskedValue } from "../../infra/config/credentials";
import { ConfigError, cronProblem, loadEnvironment, MAX_RETENTION_HOURS, MAX_TEXT_LENGTH, render, type ConfigProblem } from "../../infra/config/load";
import { loadCluster } from "../../infra/cluster/load";
import { readStackConfigFile } from "../../infra/plan/run";
import { clusters, environments } from "../../stacks";
import { configErrorOf, loaderInput } from "../harness";

const problem = (err: ConfigError, key: string): ConfigProblem | undefined => err.problems.find((p) => p.key === key);

// Credential-shaped strings, built at run time so that no scanner flags this file.
const awsKeyId = ["AKIA", "Z7QX2MBN4RTY6UIO"].join("");
const githubToken = ["ghp", "_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"].join("");
const slackHook = ["https://hooks.slack.com/services/", "T0000AAAA/B0000BBBB/", "XXXXxxxxYYYYyyyyZZZZzzzz"].join("");
const pem = ["-----BEGIN", " RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"].join("");
const jwt = ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"].join(".");

describe("credential shapes", () => {
  it.each([
    ["https://backup:S3cr3t-Pa55@s3.example.eu", "a URL with a user and password"],
    [`mongodb+srv://app:hunter2hunter2@cluster0.mongodb.net/db`, "a URL with a user and password"],
    [awsKeyId, "an AWS access key id"],
    [githubToken, "a GitHub token"],
    [slackHook, "a Slack webhook URL"],
    [pem, "a private key"],
    [jwt, "a JSON Web Token"],
    ["https://s3.example.eu/?access_token=abcdef123456", "a password query parameter"],
  ])("recognises %s as %s", (text, kind) => {
    expect(credentialKind(text)).toBe(kind);
    expect(credentialKind(`prefix ${text} suffix`)).toBe(kind);
  });

  it("recognises none in what the checked-in configs and plans hold", () => {
    for (const text of [
      "ghcr.io/diaspomoney/diaspomoney-web:1.0.0@sha256:4f9d2c1b8a7e6f5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c",
      "https://s3.eu-west-3.amazonaws.com",
      "arn:aws:kms:eu-west-3:123456789012:alias/diaspomoney-prod-fields",
      "2a06:98c0::/29",
      "oncall@diaspomoney.fr",
      "smtp.diaspomoney.fr:587",
      "mongodb://mongo-rs0.diaspomoney-prod-infra.svc:27017/?replicaSet=rs0&tls=true",
      "++Ho88+t8SzkfRjGjN8RQ1dGx1jQ6URd34FY+Bn8CTkCj0LSuxd/YIv/ajgCevrQpaxJCfLzpJMbo/2pseedHHSAXQCUzgIEyb9pIelTqTZMeL0D4Vu",
      "3c9e7a51-2b4d-4f8e-9a10-6d5c4b3a2f19",
    ]) {
      expect(credentialKinds(text)).toEqual([]);
    }
  });

  it("names secret-looking keys, misspelt ones included, and not ordinary ones", () => {
    for (const k of ["cloudflareApiTokn", "smtpPassword", "smtpPasword", "dbPwd", "clientSecret", "apiKey", "backupSecretAccessKey", "privateKey", "sentryDsn", "slackWebhookUrl"]) {
      expect(isSecretLookingKey(k)).toBe(true);
    }
    for (const k of ["replicas", "image", "emailTo", "awsKmsKeyId", "zoneId", "ipRanges", "wrapped", "endpointUrl"]) expect(isSecretLookingKey(k)).toBe(false);
  });

  it("shows a value only when nothing says it may be secret", () => {
    expect(maskedValue("replicas", 3, { storedSecret: false }, render)).toBe("3");
    expect(maskedValue("replicas", 3, { storedSecret: true }, render)).toBe("(secret value hidden)");
    expect(maskedValue("apiToken", "x", { storedSecret: false }, render)).toBe("(value hidden: the key names a secret)");
    expect(maskedValue("endpointUrl", "https://a:b@c.d", { storedSecret: false }, render)).toBe("(value hidden: it looks like a URL with a user and password)");
    expect(maskedValue("anything", undefined, { storedSecret: true }, render)).toBe("(not set)");
  });
});

describe("the configuration never echoes a secret", () => {
  it("hides the value of an unknown key stored encrypted (a misspelt secret key)", () => {
    const token = "cf-token-value-that-must-not-show-0123456789";
    const raw = loaderInput("prod", { cloudflareApiTokn: token });
    raw.secret.add("cloudflareApiTokn");
    const err = configErrorOf(() => loadEnvironment("prod", environments.prod, raw));
    expect(problem(err, "diaspomoney-platform:cloudflareApiTokn")).toMatchObject({ value: "(secret value hidden)", expected: expect.stringContaining("no such key") });
    expect(err.message).not.toContain(token);
  });

  it("hides the value of an unknown plain key named like a secret", () => {
    const err = configErrorOf(() => loadEnvironment("dev", environments.dev, loaderInput("dev", { vaultToken: "s.0123456789abcdef" })));
    expect(problem(err, "diaspomoney-platform:vaultToken")?.value).toBe("(value hidden: the key names a secret)");
    expect(err.message).not.toContain("s.0123456789abcdef");
  });

  it("hides the value of a known key that fails its schema when the key is stored encrypted", () => {
    const raw = loaderInput("rct", { alerting: { emailTo: "not-an-address-p4ssw0rd" } });
    raw.secret.add("alerting");
    const err = configErrorOf(() => loadEnvironment("rct", environments.rct, raw));
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.message).not.toContain("p4ssw0rd");
    for (const p of err.problems.filter((p) => p.key.startsWith("diaspomoney-platform:alerting"))) expect(p.value).toMatch(/^\((secret value hidden|not set)\)$/);
  });

  it("refuses an empty secret, naming the key", () => {
    const raw = loaderInput("dev", { smtpPassword: "" });
    const err = configErrorOf(() => loadEnvironment("dev", environments.dev, raw));
    expect(problem(err, "diaspomoney-platform:smtpPassword")).toMatchObject({ value: "(empty secret)", expected: expect.stringContaining("pulumi config set --secret smtpPassword") });
  });

  it("accepts every checked-in stack: no credential shape, control character or oversized text in them", () => {
    for (const stack of ["dev", "rct", "prod", "local"]) expect(loadEnvironment(stack, environments[stack], loaderInput(stack)).stack).toBe(stack);
    for (const stack of Object.keys(clusters)) expect(loadCluster(stack, clusters[stack], { values: loaderInput(stack).values, secret: new Set() }).stack).toBe(stack);
  });
});

describe("credentials typed into plain configuration are refused before anything is registered", () => {
  it("refuses a URL with a password in a plain key, without showing it", () => {
    const backup = { bucket: "diaspomoney-dev-backups", region: "eu-west-3", endpointUrl: "https://backup:S3cr3t-Pa55@s3.example.eu" };
    const err = configErrorOf(() => loadEnvironment("dev", environments.dev, loaderInput("dev", { backup })));
    expect(problem(err, "diaspomoney-platform:backup.endpointUrl")).toMatchObject({
      source: "Pulumi.dev.yaml",
      value: "(value hidden: it looks like a URL with a user and password)",
      expected: expect.stringContaining("pulumi config set --secret"),
    });
    expect(err.message).not.toContain("S3cr3t");
  });

  it("refuses a cloud access key in a stack file, naming the file and key", () => {
    const spec = structuredClone(environments.rct) as any;
    spec.domain = awsKeyId;
    const err = configErrorOf(() => loadEnvironment("rct", spec, loaderInput("rct")));
    expect(problem(err, "domain")).toMatchObject({ source: "stacks/rct.ts", value: "(value hidden: it looks like an AWS access key id)" });
    expect(err.message).not.toContain(awsKeyId);
  });

  it("refuses a credential in a cluster stack's plain config", () => {
    const values = loaderInput("cluster-nonprod").values;
    values.kubernetes = JSON.stringify({ ...JSON.parse(values.kubernetes), context: slackHook });
    const err = configErrorOf(() => loadCluster("cluster-nonprod", clusters["cluster-nonprod"], { values, secret: new Set() }));
    expect(problem(err, "diaspomoney-platform:kubernetes.context")?.value).toBe("(value hidden: it looks like a Slack webhook URL)");
    expect(err.message).not.toContain("XXXXxxxx");
  });
});

describe("free text is bounded and printable", () => {
  it("refuses control characters, showing them escaped", () => {
    const spec = structuredClone(environments.dev) as any;
    spec.domain = "dev.diaspomoney.fr\u001b[2J";
    const err = configErrorOf(() => loadEnvironment("dev", spec, loaderInput("dev")));
    expect(err.problems.filter((p) => p.key === "domain")).toContainEqual(
      expect.objectContaining({ value: '"dev.diaspomoney.fr\\u001b[2J"', expected: expect.stringContaining("no control characters") }),
    );
    expect(err.message).not.toContain("\u001b");
  });

  it("refuses megabytes of text without printing them", () => {
    const huge = "a".repeat(1_000_000);
    const err = configErrorOf(() => loadEnvironment("dev", environments.dev, loaderInput("dev", { alerting: { ...JSON.parse(loaderInput("dev").values.alerting), slackChannel: huge } })));
    expect(problem(err, "diaspomoney-platform:alerting.slackChannel")).toMatchObject({ value: "(1000000 characters)", expected: `at most ${MAX_TEXT_LENGTH} characters` });
    expect(err.message.length).toBeLessThan(5_000);
  });
});

describe("Pulumi.<stack>.yaml read offline", () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "dm-bad-config-"));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const write = (stack: string, text: string) => {
    const dir = fs.mkdtempSync(path.join(scratch, "c-"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return dir;
  };

  it("reads a key given once in either spelling", () => {
    const dir = write("dev", "config:\n  diaspomoney-platform:cluster:\n    stack: cluster-nonprod\n  smtpPassword:\n    secure: v1:abc\n");
    const cfg = readStackConfigFile("dev", dir);
    expect(Object.keys(cfg.values).sort()).toEqual(["diaspomoney-platform:cluster", "diaspomoney-platform:smtpPassword"]);
    expect(cfg.secretKeys).toEqual(["diaspomoney-platform:smtpPassword"]);
  });

  it("refuses a key given in both its short and namespaced form, and an empty secure value, all at once", () => {
    const dir = write("dev", "config:\n  app:\n    image: a\n  diaspomoney-platform:app:\n    image: b\n  smtpPassword:\n    secure: ''\n");
    const err = configErrorOf(() => readStackConfigFile("dev", dir));
    expect(err.problems).toEqual([
      expect.objectContaining({ source: "Pulumi.dev.yaml", key: "diaspomoney-platform:app", value: "(given twice)", expected: expect.stringContaining('"app" and "diaspomoney-platform:app"') }),
      expect.objectContaining({ key: "diaspomoney-platform:smtpPassword", value: "(empty secret)" }),
    ]);
  });
});

describe("rules the components also enforce are found by the configuration check first", () => {
  const spec = (stack: string, change: (s: any) => void) => {
    const s = structuredClone(environments[stack]) as any;
    change(s);
    return s;
  };

  it("names kafka.brokers, not a controller count, for an even number of combined brokers", () => {
    const err = configErrorOf(() => loadEnvironment("dev", spec("dev", (s) => (s.kafka.brokers = 4)), loaderInput("dev")));
    expect(problem(err, "kafka.brokers")).toMatchObject({ value: "4", expected: expect.stringContaining("an odd number of brokers when kafka.dedicatedControllers is 0") });
    expect(err.message).not.toMatch(/controllers, expected/);
  });

  it("accepts an even number of brokers beside dedicated controllers", () => {
    const s = spec("dev", (s) => {
      Object.assign(s.kafka, { brokers: 4, dedicatedControllers: 3 });
      Object.assign(s.namespaces.infra, { cpu: { ...s.namespaces.infra.cpu, limits: "24" }, persistentVolumeClaims: 24 });
    });
    expect(loadEnvironment("dev", s, loaderInput("dev")).spec.kafka.brokers).toBe(4);
  });

  it("refuses a controllers block without dedicated controllers", () => {
    const s = spec("rct", (s) => (s.kafka.controllers = { storage: "10Gi", resources: s.kafka.resources }));
    expect(problem(configErrorOf(() => loadEnvironment("rct", s, loaderInput("rct"))), "kafka.controllers")?.expected).toMatch(/dedicatedControllers is 0/);
  });

  it("bounds topic retention", () => {
    const ok = spec("dev", (s) => (s.kafka.topics[0].retentionHours = MAX_RETENTION_HOURS));
    expect(loadEnvironment("dev", ok, loaderInput("dev")).stack).toBe("dev");
    const err = configErrorOf(() => loadEnvironment("dev", spec("dev", (s) => (s.kafka.topics[0].retentionHours = 2 ** 52)), loaderInput("dev")));
    expect(problem(err, "kafka.topics[0].retentionHours")?.expected).toBe(`at most ${MAX_RETENTION_HOURS} hours (ten years)`);
  });

  it.each(["0 2 * * *", "*/15 * * * *", "0 0-6/2 * * MON-FRI", "30 1 1,15 JAN,jul *", "0 0 * * 7"])("accepts the cron schedule %s", (schedule) => {
    expect(cronProblem(schedule)).toBeUndefined();
  });

  it.each([
    ["0 0 * *", "5 fields, found 4"],
    ["61 0 * * *", 'the minute field "61" is outside 0-59'],
    ["0 24 * * *", 'the hour field "24" is outside 0-23'],
    ["0 0 0 * *", 'the day of month field "0" is outside 1-31'],
    ["0 0 * 13 *", 'the month field "13" is outside 1-12'],
    ["0 0 * * 8", 'the day of week field "8" is outside 0-7'],
    ["0 6-2 * * *", 'the hour field "6-2" is outside 0-23'],
    ["*/0 * * * *", 'the minute field "*/0" has a step of 0'],
    ["0 0 * * FUN", 'the day of week field "FUN" is not a value, range, step or list'],
    ["0 0 ? * *", 'the day of month field "?" is not a value, range, step or list'],
  ])("refuses the cron schedule %s: %s", (schedule, why) => {
    expect(cronProblem(schedule)).toBe(why);
  });

  it("refuses an invalid backup schedule through the loader, and a non-daily one where Atlas snapshots", () => {
    const bad = configErrorOf(() => loadEnvironment("dev", spec("dev", (s) => (s.mongodb.backup.schedule = "0 25 * * *")), loaderInput("dev")));
    expect(problem(bad, "mongodb.backup.schedule")?.expected).toMatch(/^a valid five-field cron schedule .*: the hour field "25"/);
    const weekly = configErrorOf(() => loadEnvironment("prod", spec("prod", (s) => (s.mongodb.backup.schedule = "0 2 * * 0")), loaderInput("prod")));
    expect(problem(weekly, "mongodb.backup.schedule")?.expected).toMatch(/daily schedule .* when features.atlas is on/);
    expect(loadEnvironment("dev", spec("dev", (s) => (s.mongodb.backup.schedule = "0 2 * * 0")), loaderInput("dev")).stack).toBe("dev");
  });

  it("refuses an SMTP port outside 1-65535", () => {
    const alerting = { ...JSON.parse(loaderInput("dev").values.alerting), smtpSmarthost: "smtp.diaspomoney.fr:70000" };
    const err = configErrorOf(() => loadEnvironment("dev", environments.dev, loaderInput("dev", { alerting })));
    expect(problem(err, "diaspomoney-platform:alerting.smtpSmarthost")?.expected).toBe("host:port with a port from 1 to 65535");
  });
});
