import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
// Internal modules of the SDK, pinned to an exact version in package.json and covered by
// test/plan/recorder.test.ts: the public mocks API hides parents, providers, dependencies and
// protection, which are exactly what a plan has to show.
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import { getStore, setMockOptions } from "../sdk-internals";
import { shortenPromiseTraces } from "./promise-traces";

/** The string every secret value becomes, wherever it sits. */
export const SECRET = "[secret]";
/** The string a value unknown until deployment becomes. */
export const UNKNOWN = "[unknown]";

/** One registered resource, as `plan.json` shows it. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent: string | null;
  /** Provider reference `<provider urn>::<id>`, for custom resources that have one. */
  provider: string | null;
  /** Explicit `dependsOn` and the resources whose outputs feed this one's inputs. */
  dependsOn: string[];
  protect: boolean;
  retainOnDelete: boolean;
  inputs: Record<string, unknown>;
}

/**
 * Turns a value serialized for the engine into plain data: secrets become {@link SECRET}, unknowns
 * {@link UNKNOWN}, resource references their URN, assets and archives a marker.
 */
export function unwrapSerialized(value: unknown): unknown {
  if (value === rpc.unknownValue) return UNKNOWN;
  if (Array.isArray(value)) return value.map(unwrapSerialized);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  switch (obj[rpc.specialSigKey]) {
    case rpc.specialSecretSig:
      return maskSecret(obj.value);
    case rpc.specialResourceSig:
      return obj.urn;
    case rpc.specialAssetSig:
      return "[asset]";
    case rpc.specialArchiveSig:
      return "[archive]";
    case rpc.specialOutputValueSig:
      if (obj.secret) return maskSecret(obj.value);
      return "value" in obj ? unwrapSerialized(obj.value) : UNKNOWN;
    default:
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSerialized(v)]));
  }
}

/**
 * A secret map (a Kubernetes Secret's `data`, which the SDK always makes secret) keeps its keys, so a
 * reviewer sees which entries exist; every value is {@link SECRET}. Anything else is {@link SECRET} whole.
 */
function maskSecret(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value) || rpc.specialSigKey in value) return SECRET;
  return Object.fromEntries(Object.keys(value).map((k) => [k, SECRET]));
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The Kubernetes provider auto-names objects that set no name; this mimics its random suffix, deterministically. */
export function autoName(type: string, name: string): string {
  return `${name}-${digest(`${type}::${name}`).slice(0, 8)}`;
}

/**
 * What providers compute on create, for the few outputs the program reads back. Values are
 * deterministic (same plan twice, same bytes) and obviously fake.
 */
export function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const h = digest(`${type}::${name}`);
  if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh")) {
    const metadata = { ...(inputs.metadata ?? {}) };
    if (!metadata.name) metadata.name = autoName(type, name);
    // A LoadBalancer Service gets its address from the cloud; a documentation address (TEST-NET-1,
    // RFC 5737) lets the plan show what depends on it, such as DNS records.
    if (type === "kubernetes:core/v1:Service" && inputs.spec?.type === "LoadBalancer") {
      return { ...inputs, metadata, status: { loadBalancer: { ingress: [{ ip: `192.0.2.${(parseInt(h.slice(0, 2), 16) % 254) + 1}` }] } } };
    }
    return { ...inputs, metadata };
  }
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString": {
      const length = Number(inputs.length ?? 32);
      const result = Buffer.from(h + h).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, length);
      if (type === "random:index/randomString:RandomString") return { ...inputs, result };
      // bcrypt's shape ($2a$, cost, 53 characters of salt and hash), not a real hash of `result`.
      return { ...inputs, result, bcryptHash: `$2a$10$${Buffer.from(digest(`bcrypt::${name}`) + h).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 53)}` };
    }
    case "cloudflare:index/apiToken:ApiToken":
      return { ...inputs, value: `fake-cloudflare-token-${h.slice(0, 24)}` };
    case "random:index/randomBytes:RandomBytes": {
      const bytes = Buffer.from((h + h).slice(0, Number(inputs.length ?? 32) * 2), "hex");
      return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    case "random:index/randomId:RandomId": {
      const bytes = Buffer.from(h.slice(0, Number(inputs.byteLength ?? 8) * 2), "hex");
      return { ...inputs, hex: bytes.toString("hex"), b64Std: bytes.toString("base64"), b64Url: bytes.toString("base64url"), dec: BigInt(`0x${bytes.toString("hex")}`).toString() };
    }
    case "random:index/randomUuid:RandomUuid":
      return { ...inputs, result: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}` };
    case "mongodbatlas:index/advancedCluster:AdvancedCluster": {
      // Atlas names hosts <cluster>.<5 characters>.mongodb.net; `.invalid` keeps the fake unresolvable.
      const host = `${String(inputs.name ?? name).toLowerCase()}.${h.slice(0, 5)}.mongodb.invalid`;
      return { ...inputs, connectionStrings: { standard: `mongodb://${host}:27017`, standardSrv: `mongodb+srv://${host}` } };
    }
    default:
      return { ...inputs };
  }
}

/**
 * Outputs of the stacks a planned program may reference, by the name it gives its StackReference:
 * offline, an environment reads its cluster stack's planned outputs (see `planOffline` in run.ts).
 */
export const offlineStackOutputs = new Map<string, Record<string, unknown>>();

/**
 * A StackReference, as the engine reads it: the stack's outputs. A stack with no plan in this run
 * reads as one that was never deployed (no outputs), which the program refuses as it refuses a
 * missing stack; the engine's own "unknown stack" failure is what `npm run e2e` exercises.
 */
function readStackReference(name: string): { id: string; state: Record<string, unknown> } {
  return { id: name, state: { name, outputs: offlineStackOutputs.get(name) ?? {}, secretOutputNames: [] } };
}

const mocks: pulumi.runtime.Mocks = {
  newResource: (args) =>
    args.type === "pulumi:pulumi:StackReference"
      ? readStackReference(String(args.inputs.name ?? args.name))
      : { id: args.custom === false ? undefined : `${args.name}-id`, state: computedState(args.type, args.name, args.inputs) },
  call: (args) => args.inputs,
};

/**
 * Pulumi's mock monitor, recording every registration with what the engine would see: parent,
 * provider, dependencies, protection, and inputs with secrets masked. Additional secret outputs are
 * made secret as the engine does, so the program sees generated passwords as secrets.
 */
export class RecordingMonitor extends MockMonitor {
  readonly records: RecordedResource[] = [];
  stackOutputs: Record<string, unknown> = {};

  constructor() {
    super(mocks);
  }

  override async registerResource(req: any, callback: (err: any, resp?: any) => void): Promise<void> {
    try {
      const type: string = req.getType();
      const name: string = req.getName();
      const rawInputs = req.getObject()?.toJavaScript() ?? {};
      const urn: string = (this as any).newUrn(req.getParent(), type, name);
      const deps = new Set<string>(req.getDependenciesList());
      req.getPropertydependenciesMap().forEach((v: any) => v.getUrnsList().forEach((u: string) => deps.add(u)));
      const custom: boolean = req.getCustom();
      this.records.push({
        urn,
        type,
        name,
        custom,
        parent: req.getParent() || null,
        provider: req.getProvider() || null,
        dependsOn: [...deps].sort(),
        protect: req.getProtect() === true,
        retainOnDelete: req.getRetainondelete() === true,
        inputs: unwrapSerialized(rawInputs) as Record<string, unknown>,
      });

      const result = await this.mocks.newResource({
        type,
        name,
        // rpc.deserializeProperties(req.getObject()), without converting the Struct to JavaScript again.
        inputs: Object.fromEntries(Object.entries(rawInputs).flatMap(([k, v]) => (v === undefined ? [] : [[k, rpc.deserializeProperty(v)]]))),
        provider: req.getProvider(),
        custom,
        id: req.getImportid(),
      });
      const state = await rpc.serializeProperties("", result.state);
      for (const key of req.getAdditionalsecretoutputsList() as string[]) {
        if (key in state) state[key] = { [rpc.specialSigKey]: rpc.specialSecretSig, value: state[key] };
      }
      // Secret inputs stay secret in the state the program reads back.
      for (const [key, value] of Object.entries(rawInputs)) {
        if ((value as any)?.[rpc.specialSigKey] === rpc.specialSecretSig) state[key] = value;
      }
      this.resources.set(urn, { urn, id: result.id ?? null, state });
      const { RegisterResourceResponse } = require("@pulumi/pulumi/proto/resource_pb");
      const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
      const response = new RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(result.id || "");
      response.setObject(Struct.fromJavaScript(state));
      callback(null, response);
    } catch (err) {
      callback(err, undefined);
    }
  }

  override registerResourceOutputs(req: any, callback: (err: any, resp?: any) => void): void {
    const urn: string = req.getUrn();
    if (urn.split("::")[2] === "pulumi:pulumi:Stack") {
      this.stackOutputs = unwrapSerialized(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
    }
    super.registerResourceOutputs(req, callback);
  }
}

/**
 * Installs a fresh {@link RecordingMonitor} as the Pulumi engine for `project`/`stack`, with the same
 * feature flags `pulumi.runtime.setMocks` sets, and the SDK's promise traces short (promise-traces.ts).
 */
export function installRecorder(project: string, stack: string): RecordingMonitor {
  shortenPromiseTraces();
  const monitor = new RecordingMonitor();
  setMockOptions(monitor, project, stack, false);
  const store = getStore();
  store.supportsSecrets = true;
  store.supportsResourceReferences = true;
  store.supportsOutputValues = false;
  store.supportsDeletedWith = true;
  store.supportsAliasSpecs = true;
  store.supportsTransforms = false;
  store.supportsParameterization = true;
  Object.assign(store, { supportsReplaceWith: true, supportsResourceHooks: true, supportsErrorHooks: true });
  return monitor;
}
