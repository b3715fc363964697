// Stack entry (Pulumi.yaml `main`). The stack name picks the environment file in stacks/.
import { program } from "./infra/program";

export = program;
