/**
 * CRDs as the API server stores them. Found by the real engine (npm run e2e): Strimzi's Kafka CRD
 * declares `clusterSecurity: { properties: {} }`, which the API server drops (omitempty), so every
 * preview after the first `up` proposed to add it back.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { crdAsStored, crdStoredForm, schemaAsStored } from "../../components/crds";

const upstream = path.resolve(__dirname, "..", "..", "..", "shared", "upstream", "crds");
const kafkaCrdFile = path.join(upstream, "strimzi", "040-Crd-kafka.yaml");

/** Every path of `value` whose value is an empty object or list under a given key. */
function emptyAt(value: unknown, key: string, at = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => emptyAt(v, key, `${at}[${i}]`));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(k === key && v && typeof v === "object" && Object.keys(v).length === 0 ? [`${at}.${k}`] : []),
    ...emptyAt(v, k === "default" || k === "example" ? "\u0000" : key, `${at}.${k}`),
  ]);
}

describe("a CRD declared as stored", () => {
  it.skipIf(!fs.existsSync(kafkaCrdFile))("drops the empty properties of Strimzi's Kafka CRD, and changes nothing else", () => {
    const [crd] = parseAllDocuments(fs.readFileSync(kafkaCrdFile, "utf8")).map((d) => d.toJS());
    expect(emptyAt(crd, "properties").length).toBeGreaterThan(0);
    const stored = crdAsStored(crd);
    expect(emptyAt(stored, "properties")).toEqual([]);
    // The rest is untouched: putting the empty maps back gives the file.
    expect(JSON.stringify(stored).length).toBeLessThan(JSON.stringify(crd).length);
    expect(stored.metadata).toEqual(crd.metadata);
    expect(stored.spec.versions.map((v: any) => v.name)).toEqual(crd.spec.versions.map((v: any) => v.name));
  });

  it("drops empty omitempty fields at every depth, keeps defaults and examples as data", () => {
    const schema = {
      type: "object",
      required: [],
      properties: {
        a: { type: "object", properties: {}, default: { properties: {} } },
        b: { type: "string", enum: [], example: [] },
        c: { type: "array", items: { type: "object", properties: {}, required: ["x"], "x-kubernetes-list-map-keys": [] } },
      },
    };
    expect(schemaAsStored(schema)).toEqual({
      type: "object",
      properties: {
        a: { type: "object", default: { properties: {} } },
        b: { type: "string", example: [] },
        c: { type: "array", items: { type: "object", required: ["x"] } },
      },
    });
    // A property named like a keyword is a property, not a keyword.
    expect(schemaAsStored({ properties: { required: { type: "boolean" }, enum: { type: "string" } } })).toEqual({ properties: { required: { type: "boolean" }, enum: { type: "string" } } });
  });

  it("is applied to CRDs only, through the ConfigFile's transform", () => {
    const crd = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "x" }, spec: { versions: [{ name: "v1", schema: { openAPIV3Schema: { type: "object", properties: {} } } }] } };
    const args = (type: string, props: Record<string, any>) => ({ type, name: "x", props, opts: {} }) as any;
    expect((crdStoredForm(args("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", crd)) as any).props.spec.versions[0].schema.openAPIV3Schema).toEqual({ type: "object" });
    expect(crdStoredForm(args("kubernetes:core/v1:ConfigMap", { data: { properties: {} } }))).toBeUndefined();
  });
});
