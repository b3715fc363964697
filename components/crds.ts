import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { crdFiles, crdLocation, crdVersions, type CrdLocation } from "../infra/crds";

export interface PlatformCrdsArgs {
  services: "managed" | "external";
  location: CrdLocation;
}

/**
 * Keeps every object a component creates: `protect` (no delete or replace without an explicit
 * `pulumi state unprotect`) and `retainOnDelete` (removing it from the program never deletes it from
 * the cluster). Applied as a transform so that it reaches the objects the provider reads from the
 * file, which the program never sees.
 */
export const keepForever: pulumi.ResourceTransform = (args) => ({
  props: args.props,
  opts: pulumi.mergeOptions(args.opts, { protect: true, retainOnDelete: true }),
});

/**
 * JSONSchemaProps fields the API server serialises with `omitempty`: an empty one in a file is never
 * stored, so declaring it would show a change on every preview (a perpetual diff).
 */
const OMITTED_WHEN_EMPTY = ["properties", "patternProperties", "definitions", "dependencies", "required", "enum", "allOf", "oneOf", "anyOf", "x-kubernetes-list-map-keys"];

function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);
}

/** A schema as the API server stores it: the empty `omitempty` fields dropped, at every depth (never inside `default` or `example`, which are data). */
export function schemaAsStored(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(schemaAsStored);
  if (!schema || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (OMITTED_WHEN_EMPTY.includes(k) && isEmpty(v)) continue;
    if (k === "default" || k === "example") out[k] = v;
    else if (k === "properties" || k === "patternProperties" || k === "definitions" || k === "dependencies") {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([name, sub]) => [name, schemaAsStored(sub)]));
    } else out[k] = schemaAsStored(v);
  }
  return out;
}

/** A CustomResourceDefinition as the API server stores it (see `schemaAsStored`); any other object unchanged. */
export function crdAsStored<T extends Record<string, any>>(obj: T): T {
  if (obj?.kind !== "CustomResourceDefinition" || !Array.isArray(obj.spec?.versions)) return obj;
  return {
    ...obj,
    spec: {
      ...obj.spec,
      versions: obj.spec.versions.map((v: any) => (v.schema?.openAPIV3Schema ? { ...v, schema: { ...v.schema, openAPIV3Schema: schemaAsStored(v.schema.openAPIV3Schema) } } : v)),
    },
  };
}

/** Declares each CRD of a file as the API server will store it: no perpetual diff after the first apply. */
export const crdStoredForm: pulumi.ResourceTransform = (args) =>
  args.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" ? { props: crdAsStored(args.props), opts: args.opts } : undefined;

/**
 * The CustomResourceDefinitions of the platform (infra/crds.ts), one `yaml/v2:ConfigFile` per upstream
 * file, read from the pinned release (or a local mirror of it). Every CRD is protected and retained:
 * deleting one deletes every object of its kind in the cluster, every environment's included. A
 * version bump changes the file's URL, and the CRDs are updated in place before the controllers that
 * serve them (which depend on this component).
 */
export class PlatformCrds extends pulumi.ComponentResource {
  /** One ConfigFile per CRD file, by file name. */
  readonly files: Record<string, k8s.yaml.v2.ConfigFile> = {};
  readonly versions = crdVersions();

  constructor(name: string, args: PlatformCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:cluster:PlatformCrds", name, {}, opts);
    for (const { source, file } of crdFiles(args.services)) {
      const resourceName = `crd-${file.kinds[0].toLowerCase()}.${file.group}`;
      this.files[file.file] = new k8s.yaml.v2.ConfigFile(
        resourceName,
        { file: crdLocation(source, file, args.location) },
        { parent: this, protect: true, retainOnDelete: true, transforms: [keepForever, crdStoredForm] },
      );
    }
    this.registerOutputs({ versions: this.versions, files: Object.keys(this.files) });
  }
}
