import fc from "fast-check";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { toYaml } from "../../infra/plan/yaml";

/** What a YAML 1.2 reader and a YAML 1.1 reader (Kubernetes' Go libraries) make of `text`. */
function readBoth(text: string): [unknown, unknown] {
  return [YAML.parse(text), YAML.parse(text, { version: "1.1" })];
}

/** Plain data as it comes out of JSON (no -0, no undefined), with the strings manifests hold. */
const tricky = fc.constantFrom(
  "yes", "No", "on", "OFF", "y", "null", "~", "", " ", "true", "1.2.0", "0777", "0x1F", "1e3", "1_000", "12:30", "2024-01-01",
  "-", "- x", "a: b", "#x", "x #y", "@x", "`x`", "'x'", "\"x\"", "*x", "&x", "!x", "%x", "|", ">", "[x]", "{x}", "<<", "=", ".inf", "NaN",
  "line\n", "two\nlines", "trail\n\n\n", "\nlead", " indented\nx", "a\n  more\nb", "tab\there", "cr\r\nlf", "blank\n \nline", "\u2028", "é\u0085", "100m", "/api/health",
);
const json = fc
  .letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.oneof(fc.string({ unit: "grapheme" }), tricky),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string({ unit: "grapheme" }), tricky), tie("value"), { maxKeys: 4 }),
    ),
  }))
  .value.map((v) => JSON.parse(JSON.stringify({ v })) as Record<string, unknown>);

describe("the manifest YAML writer", () => {
  it("writes what both YAML 1.2 and YAML 1.1 readers read back unchanged", () => {
    fc.assert(
      fc.property(json, (doc) => {
        const [v12, v11] = readBoth(toYaml(doc));
        expect(v12).toEqual(doc);
        expect(v11).toEqual(doc);
      }),
      { numRuns: 2000 },
    );
  });

  it("quotes strings a YAML 1.1 reader would take for booleans, numbers or versions", () => {
    expect(toYaml({ a: "yes", b: "on", c: "0777", d: "1.2.0", e: "1e3", f: "" })).toBe('a: "yes"\nb: "on"\nc: "0777"\nd: "1.2.0"\ne: "1e3"\nf: ""\n');
  });

  it("keeps names, labels, quantities and paths bare, and multi-line text as a literal block", () => {
    expect(toYaml({ metadata: { labels: { "app.kubernetes.io/name": "web" } }, cpu: "100m", path: "/api/health", rule: "sum(rate(x[5m]))\n  > 0\n" })).toBe(
      "metadata:\n  labels:\n    app.kubernetes.io/name: web\ncpu: 100m\npath: /api/health\nrule: |\n  sum(rate(x[5m]))\n    > 0\n",
    );
  });

  it("writes lists of objects the way kubectl users read them", () => {
    expect(toYaml({ containers: [{ name: "web", ports: [{ containerPort: 3000 }] }], args: [], env: {} })).toBe(
      "containers:\n  - name: web\n    ports:\n      - containerPort: 3000\nargs: []\nenv: {}\n",
    );
  });
});
