// Loads index.ts the way the Pulumi CLI's Node.js language host does for a CommonJS TypeScript
// project (@pulumi/pulumi/cmd/run/run.js): the project's TypeScript, ts-node from node_modules or the
// SDK's vendored ts-node 7, the project's tsconfig.json over the host's defaults, type-checking on.
// Prints what it found as JSON; a compile or type error exits non-zero.
const path = require("node:path");
const root = path.resolve(__dirname, "..", "..");
const req = (m) => require(require.resolve(m, { paths: [root] }));
const tsutils = req("@pulumi/pulumi/tsutils.js");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const tsconfig = path.join(root, "tsconfig.json");
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfig);
const tsn = require(require.resolve(tsnodeRequire, { paths: [root] }));
tsn.register({
  compiler: typescriptRequire,
  transpileOnly: compilerOptions.noCheck,
  project: tsconfig,
  skipProject: false,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
const entry = require(path.join(root, require(path.join(root, "package.json")).main));
const typescript = require(require.resolve(typescriptRequire, { paths: [root] })).version;
// The offline engine shortens the SDK's promise traces (infra/plan/promise-traces.ts); the program must not.
const debuggable = req("@pulumi/pulumi/runtime/debuggable.js");
const promiseTracesShortened = debuggable.debuggablePromise[Symbol.for("diaspomoney.shortPromiseStacks")] === true;
console.log(JSON.stringify({ tsnode: path.basename(tsnodeRequire), typescript, exportType: typeof entry, promiseTracesShortened }));
