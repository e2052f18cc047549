import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';

export const OPENAPI_YAML = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
export const CLIENT_TYPES = fileURLToPath(new URL('./openapi-types.ts', import.meta.url));

/** The typed client's types, generated from the committed openapi.yaml. */
export async function clientTypes(): Promise<string> {
  const document = parse(await readFile(OPENAPI_YAML, 'utf8')) as Parameters<typeof openapiTS>[0];
  return `// Generated from openapi.yaml by \`npm run openapi\`; do not edit.\n${astToString(await openapiTS(document))}`;
}

// `tsx test/client/client-types.ts` (the second half of `npm run openapi`) writes them.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(CLIENT_TYPES, await clientTypes());
  console.log(`wrote ${CLIENT_TYPES}`);
}
