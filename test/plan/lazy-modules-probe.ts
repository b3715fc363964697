/**
 * Run by lazy-modules.test.ts in a process of its own (a fresh process is what it is about): defers
 * the SDK's unused modules, uses them, and prints on one JSON line what was loaded at each step.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import { deferUnusedSdkModules } from "../../infra/plan/lazy-modules";

const ROOT = path.resolve(__dirname, "..", "..");
const load = createRequire(path.join(ROOT, "package.json"));
const loaded = (pkg: string) => Object.keys(load.cache).some((f) => f.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`));

const typescriptAtStart = loaded("typescript");
deferUnusedSdkModules();
const ts = load("typescript") as typeof import("typescript");
const arborist = load("@npmcli/arborist") as { Arborist: unknown };
// What module interop asks right after a require is answered without loading.
const esModule = (ts as unknown as { __esModule: boolean }).__esModule;
const exportsDescriptor = Object.getOwnPropertyDescriptor(ts, "module.exports");
const afterRequire = { typescript: loaded("typescript"), arborist: loaded("@npmcli/arborist") };
const parsed = ts.isVariableStatement(ts.createSourceFile("x.ts", "let a = 1", ts.ScriptTarget.Latest).statements[0]);
const typescriptAfterUse = loaded("typescript");
const arboristType = typeof arborist.Arborist;
const arboristAfterUse = loaded("@npmcli/arborist");
console.log(JSON.stringify({ typescriptAtStart, esModule, exportsDescriptor: exportsDescriptor ?? null, afterRequire, parsed, typescriptAfterUse, arboristType, arboristAfterUse }));
