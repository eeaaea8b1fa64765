// Runs the TypeScript sources directly: SWC transpiles them (with decorator
// metadata, which NestJS's dependency injection needs) and resolves the
// @nicvisor/* path aliases from tsconfig.json.
import { register } from 'node:module';

register('@swc-node/register/esm', import.meta.url);
