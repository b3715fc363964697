// `npx tsx infra/compliance/pack-config.ts`: rewrites policy/config/<stack>.json, the pack config each
// stack passes to `pulumi preview --policy-pack-config`, from the stack's tier and features.
import * as fs from "node:fs";
import * as path from "node:path";
import { STACK_NAMES } from "../../stacks";
import { ROOT } from "../plan/run";
import { packConfigFor } from "../../policy/policies";
import { profileOf } from "./index";

for (const stack of STACK_NAMES) {
  const file = path.join(ROOT, "policy", "config", `${stack}.json`);
  fs.writeFileSync(file, `${JSON.stringify(packConfigFor(profileOf(stack)), null, 2)}\n`);
  console.log(path.relative(process.cwd(), file));
}
