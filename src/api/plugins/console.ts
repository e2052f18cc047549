import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/*
 * The web console: static files (src/console, copied to dist/console by the build) at `/` and
 * /console/, and the two browser libraries it imports, straight from node_modules. No build
 * step and no key needed for the files; every data call the console makes carries the key.
 */

/** Next to this file's folder in both layouts: src/api/plugins → src/console, dist/… → dist/console. */
export const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** URL name → file. Both are self-contained ES modules (no bare imports), so no import map. */
const VENDOR: Record<string, string> = {
  'uPlot.esm.js': join(packageDir('uplot'), 'dist', 'uPlot.esm.js'),
  'uPlot.min.css': join(packageDir('uplot'), 'dist', 'uPlot.min.css'),
  'eventsource-parser.js': join(packageDir('eventsource-parser'), 'dist', 'index.js'),
};

/**
 * Scripts only from here, no inline script, no framing; data calls only to this origin. uPlot
 * sizes its elements through the CSSOM (allowed), and the heat map's colours are set the same
 * way, so style attributes in markup are not needed either.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Encapsulated: the headers and the routes stay the console's own (not /docs, not /v1). */
export async function consoleUi(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  // Only the files present at start-up get routes (no wildcard that would shadow 404s).
  await app.register(fastifyStatic, {
    root: CONSOLE_DIR,
    prefix: '/console/',
    wildcard: false,
    index: false,
    // Small files that change with each release: revalidate rather than cache for a day.
    maxAge: 0,
    cacheControl: true,
  });
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.sendFile('index.html', CONSOLE_DIR),
  );
  for (const [name, file] of Object.entries(VENDOR)) {
    app.get(`/console/vendor/${name}`, { schema: { hide: true } }, (_request, reply) =>
      reply.sendFile(basename(file), dirname(file)),
    );
  }
}
