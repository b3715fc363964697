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
        { parent: this, protect: true, retainOnDelete: true, transforms: [keepForever] },
      );
    }
    this.registerOutputs({ versions: this.versions, files: Object.keys(this.files) });
  }
}
