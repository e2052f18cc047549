import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/*
 * Lints snippets at made-up paths with the repository's eslint.config.js. Type-aware rules are
 * off: they need files on disk, and the architecture rules only read import specifiers.
 */
const eslint = new ESLint({
  cwd: fileURLToPath(new URL('../..', import.meta.url)),
  overrideConfig: tseslint.configs.disableTypeChecked,
});

/** The architecture rules' complaints about `code` placed at `path`, as "rule: message". */
async function complaints(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  const messages = result!.messages;
  expect(messages.filter((m) => m.fatal)).toEqual([]);
  return messages
    .filter((m) => /^(boundaries\/|no-restricted-imports$)/.test(m.ruleId ?? ''))
    .map((m) => `${m.ruleId}: ${m.message}`);
}

describe('dependencies run one way', () => {
  it('refuses an import from a layer to the right', async () => {
    const found = await complaints(
      'src/training/wrong-way.ts',
      "import { createDb } from '../db/prisma-client.js';\nexport const x = createDb;\n",
    );
    expect(found).toEqual([expect.stringMatching(/^boundaries\/dependencies: .*"training".*"db"/)]);
  });

  it('accepts an import from a layer to the left', async () => {
    const found = await complaints(
      'src/services/right-way.ts',
      "import { createDb } from '../db/prisma-client.js';\nexport const x = createDb;\n",
    );
    expect(found).toEqual([]);
  });

  it('checks type-only imports and re-exports too', async () => {
    const typeOnly = await complaints(
      'src/storage/wrong-way.ts',
      "import type { DomainError } from '../services/domain-error.js';\nexport type X = DomainError;\n",
    );
    const reExport = await complaints(
      'src/config/wrong-way.ts',
      "export { selectBackend } from '../tfjs/tfjs-backend.js';\n",
    );
    expect([typeOnly, reExport]).toEqual([
      [expect.stringMatching(/^boundaries\/dependencies: /)],
      [expect.stringMatching(/^boundaries\/dependencies: /)],
    ]);
  });

  it('keeps the training core pure: contracts, tfjs and node:crypto only', async () => {
    const impure = await complaints(
      'src/training/impure.ts',
      [
        "import { readFile } from 'node:fs/promises';",
        "import type { Config } from '../config/config.js';",
        'export const x = readFile;',
        'export type C = Config;',
      ].join('\n'),
    );
    expect(impure).toEqual([
      expect.stringMatching(/^no-restricted-imports: 'node:fs\/promises'/),
      expect.stringMatching(/^boundaries\/dependencies: src\/training is the pure core/),
    ]);
    const pure = await complaints(
      'src/training/pure.ts',
      [
        "import * as tf from '@tensorflow/tfjs';",
        "import type { TrainingSpec } from '../contracts/training-spec.js';",
        "import { pixelsToBatch } from './preprocessing.js';",
        'export const x = [tf, pixelsToBatch];',
        'export type S = TrainingSpec;',
      ].join('\n'),
    );
    expect(pure).toEqual([]);
  });

  it('lets inference reach the training core only through its public module', async () => {
    const found = await complaints(
      'src/inference/reach-in.ts',
      [
        "import { planCut } from '../training/model-surgery.js';",
        "import { pixelsToBatch } from '../training/trained-model.js';",
        'export const x = [planCut, pixelsToBatch];',
      ].join('\n'),
    );
    expect(found).toEqual([expect.stringMatching(/only through src\/training\/trained-model\.ts/)]);
  });

  it('leaves runtime/ (composition) to entry points', async () => {
    const code = "import { wireApi } from '../runtime/wiring.js';\nexport const x = wireApi;\n";
    expect(await complaints('src/api/reach-up.ts', code)).toEqual([
      expect.stringMatching(/^boundaries\/dependencies: .*"api".*"runtime"/),
    ]);
    expect(await complaints('src/api/server.ts', code)).toEqual([]);
  });

  it('refuses code in a folder of src/ that has no place in the layers', async () => {
    expect(await complaints('src/helpers/anything.ts', 'export const x = 1;\n')).toEqual([
      expect.stringMatching(/^boundaries\/no-unknown-files: /),
    ]);
  });
});
