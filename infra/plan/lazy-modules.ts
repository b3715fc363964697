// `@pulumi/pulumi` loads TypeScript's compiler and npm's Arborist (with pacote, sigstore...) as soon as
// it is imported, for function serialization and code-path analysis, which a plan of this program never
// uses. They are about two thirds of the SDK's loading time. Deferred, each loads on first use instead:
// nothing changes for code that does use them, a plan just does not pay for them.
import Module = require("node:module");

/** Packages the SDK requires at load time but uses only inside rarely called functions. */
export const DEFERRED_MODULES = ["typescript", "@npmcli/arborist"] as const;

/**
 * What module interop asks of every module right after loading it, answered without loading:
 * `__esModule` (TypeScript's `__importStar`: "yes" keeps it from copying, and so loading, every
 * export) and `module.exports` (Node's and tsx's require(esm) convention, which CommonJS packages never
 * define).
 */
const INTEROP = new Map<PropertyKey, unknown>([
  ["__esModule", true],
  ["module.exports", undefined],
]);

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Loader };
let installed = false;

/**
 * Makes `require()` of a {@link DEFERRED_MODULES} entry return a stand-in that loads the real module
 * on the first property access. Only for processes that plan offline (the CLI, the benchmark and the
 * test workers, test/setup/sdk-modules.ts): the Pulumi CLI loads modules as usual.
 */
export function deferUnusedSdkModules(): void {
  if (installed) return;
  installed = true;
  const load = loader._load;
  const deferred = new Set<string>(DEFERRED_MODULES);
  loader._load = function (this: unknown, request, parent, isMain) {
    if (!deferred.has(request)) return load.call(this, request, parent, isMain);
    let real: object | undefined;
    const target = () => (real ??= load.call(this, request, parent, isMain) as object);
    return new Proxy(
      {},
      {
        get: (_, key) => (INTEROP.has(key) ? INTEROP.get(key) : Reflect.get(target(), key)),
        has: (_, key) => (INTEROP.has(key) ? INTEROP.get(key) !== undefined : Reflect.has(target(), key)),
        ownKeys: () => Reflect.ownKeys(target()),
        getOwnPropertyDescriptor: (_, key) => {
          if (INTEROP.has(key)) return INTEROP.get(key) === undefined ? undefined : { value: INTEROP.get(key), configurable: true, enumerable: false, writable: false };
          const d = Reflect.getOwnPropertyDescriptor(target(), key);
          return d && { ...d, configurable: true };
        },
      },
    );
  };
}
