import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Path of a compiled module that runs in another process or thread (BullMQ sandbox, worker
 * thread). Those need plain JS: from src/ (tests, tsx) the build in dist/ is used.
 */
export function compiledModulePath(relativeToSrc: string): string {
  const here = fileURLToPath(import.meta.url); // src/config/compiled-path.{ts,js}
  const root = here.endsWith('.ts') ? '../../dist/' : '../';
  const path = fileURLToPath(new URL(`${root}${relativeToSrc}`, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return path;
}
