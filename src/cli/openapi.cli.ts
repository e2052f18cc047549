/** `npm run openapi`: writes the API document generated from the routes to openapi.yaml. */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateOpenApiYaml } from '../api/openapi-document.js';

const target = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
await writeFile(target, await generateOpenApiYaml());
console.log(`wrote ${target}`);
