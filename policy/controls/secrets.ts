/**
 * Secret controls: no credential outside a Secret (env literals, ConfigMaps, Helm values, any other
 * object), no secret in stack outputs.
 */
import { resourceControl, stackAnchor, stackControl, subjectOf, type Findings, type Subject } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import { podsOf, T, walk } from "../lib/k8s";
import { isSecretKeyName, redact, SECRET_MARKER, tokenShapeIn } from "../lib/secrets";

/** A value that is only a reference or a placeholder, not a credential (`$(VAR)`, `/run/secrets/x`, `{{ .Values.x }}`). */
function isReferenceLike(v: string): boolean {
  return v === "" || /^(\$\(|\$\{|\{\{|\/|<)/.test(v);
}

/** `password: hunter2`, `SMTP_PASSWORD=x` lines inside configuration files kept in ConfigMaps. */
function embeddedCredentials(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*["']?([^"'\s#]+)/.exec(line);
    if (m && isSecretKeyName(m[1]) && !isReferenceLike(m[2])) found.push(m[1]);
  }
  return found;
}

function scanTokens(s: Subject, f: Findings, root: unknown, prefix: string): number {
  let strings = 0;
  walk(root, (path, _key, leaf) => {
    if (typeof leaf !== "string") return;
    strings++;
    const shape = tokenShapeIn(leaf);
    if (shape) f.fail(s, prefix ? `${prefix}.${path}` : path, leaf, `a ${shape} must live in a Secret, never in ${s.type.split(":").pop()} inputs`);
  });
  return strings;
}

function checkKubernetesObject(s: Subject, f: Findings): void {
  const p = s.props ?? {};
  if (s.type === T.secret) {
    // Secret payloads are where credentials belong; their metadata is not.
    scanTokens(s, f, p.metadata, "metadata");
    return;
  }
  const envPaths = new Set<string>();
  for (const pod of podsOf(s))
    for (const c of pod.containers)
      c.env?.forEach((e: any, i: number) => {
        const path = `${c.where}.env[${i}].value`;
        envPaths.add(path);
        const v = e?.value;
        if (typeof v !== "string") return;
        if (v === SECRET_MARKER) f.fail(s, path, v, `env ${e.name} inlines a Pulumi secret into the pod spec; use valueFrom.secretKeyRef`);
        // The credential is named by the env entry, not by the `value` key: redact it here.
        else if (isSecretKeyName(String(e?.name ?? "")) && !isReferenceLike(v)) f.fail(s, path, redact(v), `env ${e.name} holds a credential literal; use valueFrom.secretKeyRef`);
      });
  if (s.type === T.configMap) {
    for (const section of ["data", "binaryData"] as const)
      for (const [k, v] of Object.entries(p[section] ?? {})) {
        if (typeof v !== "string") continue;
        const path = `${section}.${k}`;
        if (v === SECRET_MARKER) f.fail(s, path, v, "a ConfigMap must not hold a secret; use a Secret");
        else if (isSecretKeyName(k) && !isReferenceLike(v)) f.fail(s, path, v, "a ConfigMap must not hold a credential; use a Secret");
        else {
          const keys = embeddedCredentials(v);
          if (keys.length > 0) f.fail(s, path, `(file with ${keys.join(", ")})`, "a configuration file in a ConfigMap must not carry credentials; reference a mounted Secret file instead");
        }
      }
  }
  walk(p, (path, _key, leaf) => {
    if (leaf === SECRET_MARKER && !envPaths.has(path) && !path.startsWith("data.") && !path.startsWith("binaryData."))
      f.fail(s, path, leaf, "a Pulumi secret inlined into a Kubernetes object other than a Secret is stored in clear in the cluster");
  });
  scanTokens(s, f, p, "");
}

function checkHelmValues(s: Subject, f: Findings): void {
  walk(s.props?.values, (path, key, leaf) => {
    if (typeof leaf !== "string") return;
    const where = `values.${path}`;
    if (leaf === SECRET_MARKER) f.fail(s, where, leaf, "a secret in Helm values ends up in clear in the release and rendered objects; reference an existing Secret (existingSecret, *SecretRef, *_file)");
    else if (isSecretKeyName(key) && !isReferenceLike(leaf)) f.fail(s, where, leaf, "Helm values must not carry credentials; reference an existing Secret");
  });
  scanTokens(s, f, s.props, "");
}

export const noSecretLiterals = resourceControl({
  name: "no-secret-literals",
  description:
    "Credentials live only in Kubernetes Secrets and Pulumi secrets: never as env literals, in ConfigMaps, in Helm values, or in any other resource input (key names such as password/token/apiKey/dsn, and well-known token shapes).",
  severity: "critical",
  refs: [PCI.noHardcodedPasswords, PCI.keysProtected, GDPR.integrity],
  remediation: "Put the value in a Kubernetes Secret built from a Pulumi secret and reference it (valueFrom.secretKeyRef, existingSecret, mounted files).",
  // Providers hold their credentials as (secret) inputs by design; stack outputs have their own control.
  appliesTo: (s) => !s.type.startsWith("pulumi:"),
  scope: "every resource but providers and the stack",
  check: (s, f) => {
    const before = f.failed;
    let scanned = 0;
    if (s.type === T.helmChart || s.type === T.helmRelease) checkHelmValues(s, f);
    else if (s.type.startsWith("kubernetes:")) checkKubernetesObject(s, f);
    else scanned = scanTokens(s, f, s.props, "");
    if (f.failed === before) f.pass(s, "inputs", scanned > 0 ? `${scanned} strings, none secret-looking` : "no secret-looking literal");
  },
});

export const stackOutputsNoSecrets = stackControl({
  name: "stack-outputs-no-secrets",
  description: "Stack outputs, which operators, CI and auditors read, carry no unmarked secret: credential-named keys are Pulumi secrets and no value has a credential's shape.",
  severity: "high",
  refs: [PCI.noHardcodedPasswords, GDPR.integrity],
  remediation: "Remove the value from the outputs, or export it with pulumi.secret(...).",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const stack = all.find((r) => r.type === T.stack);
    if (!stack) return { notApplicable: "the stack resource is not in the plan" };
    let strings = 0;
    let marked = 0;
    walk(stack.props, (path, key, leaf) => {
      if (typeof leaf !== "string") return;
      strings++;
      if (leaf === SECRET_MARKER) {
        marked++;
        if (path.startsWith("compliance.")) f.fail(stack, `outputs.${path}`, leaf, "the compliance output must carry no secret at all");
        return;
      }
      const shape = tokenShapeIn(leaf);
      if (shape) f.fail(stack, `outputs.${path}`, leaf, `a ${shape} must not be a stack output`);
      else if (isSecretKeyName(key) && !isReferenceLike(leaf)) f.fail(stack, `outputs.${path}`, leaf, "a credential-named output must be a Pulumi secret");
    });
    f.pass(stackAnchor(all), "outputs", `${strings} strings, ${marked} marked secret`);
  },
});

export const secretControls = [noSecretLiterals, stackOutputsNoSecrets];
