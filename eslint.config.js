import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/*
 * Dependencies run one way: a folder of src/ imports from its own layer or layers to its left.
 * Right of them all sits composition: runtime/ (wiring, bootstrap, embedded servers), which
 * only entry points (modules Node runs directly) may import, and main.ts, which may import
 * anything. test/ and bench/ are unchecked.
 */
const LAYERS = [
  ['contracts', 'config', 'observability'],
  ['tfjs', 'onnx', 'training'],
  ['db', 'storage', 'queue'],
  ['services'],
  ['api', 'worker', 'cli', 'inference'],
];
const ALL = LAYERS.flat();

const elements = [...ALL, 'runtime'].map((type) => ({
  type,
  pattern: `src/${type}`,
  partialMatch: false,
}));
const files = [
  { category: 'main', pattern: 'src/main.ts' },
  {
    category: 'entry',
    pattern: [
      'src/api/server.ts',
      'src/worker/main.ts',
      'src/worker/*.processor.ts',
      'src/inference/*.thread.ts',
      'src/tfjs/*.thread.ts',
      'src/cli/*.cli.ts',
    ],
  },
];

const fromType = (type) => ({ element: { type } });
const toType = (type) => ({ to: { element: { type } } });

// The last policy that matches decides, so the exceptions follow the layer table.
const policies = [
  ...LAYERS.flatMap((layer, i) =>
    layer.map((type) => ({
      from: fromType(type),
      allow: toType(LAYERS.slice(0, i + 1).flat()),
    })),
  ),
  { from: fromType('runtime'), allow: toType(ALL) },
  { from: { file: { categories: 'main' } }, allow: toType([...ALL, 'runtime']) },
  { from: { file: { categories: 'entry' } }, allow: toType('runtime') },
  {
    from: fromType('training'),
    disallow: toType(['config', 'tfjs', 'onnx']),
    message:
      'src/training is the pure core: it imports only src/contracts; settings and the tfjs backend come in as arguments',
  },
  {
    from: fromType('inference'),
    disallow: { to: { element: { type: 'training', fileInternalPath: '!trained-model.ts' } } },
    message: 'src/inference uses the training core only through src/training/trained-model.ts',
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'data/',
      'coverage/',
      'node_modules/',
      'src/db/generated/',
      'scratch-*',
      'scratch-*/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Fastify plugins are async functions by contract, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/root-path': import.meta.dirname,
      'boundaries/elements': elements,
      'boundaries/files': files,
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'import/resolver': { [`${import.meta.dirname}/eslint-resolver.cjs`]: {} },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        { default: 'disallow', checkUnknownLocals: true, policies },
      ],
      // A new folder under src/ must take its place in LAYERS before it can hold code.
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    files: ['src/training/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@tensorflow/tfjs$|node:crypto$|\\.\\.?/)',
              message:
                'src/training is the pure core: tfjs and node:crypto only; files, HTTP, queues and databases come in as functions',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The web console: plain browser ES modules, served as they are.
    files: ['src/console/**/*.js', 'test/browser/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          ...['window', 'document', 'location', 'sessionStorage', 'fetch', 'setTimeout'],
          ...['URL', 'URLSearchParams', 'FormData', 'XMLHttpRequest', 'AbortController'],
          ...['ResizeObserver', 'TextDecoderStream', 'MutationObserver', 'DataTransfer', 'File'],
          ...['HTMLImageElement', 'HTMLButtonElement', 'atob'],
          ...['clearTimeout', 'IntersectionObserver'],
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
