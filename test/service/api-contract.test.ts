import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { generateOpenApiYaml } from '../../src/api/openapi-document.js';
import { clientTypes } from '../client/client-types.js';

const committed = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the API document', () => {
  it('is what the routes generate (run `npm run openapi` after changing a route)', async () => {
    expect(await generateOpenApiYaml()).toBe(committed('openapi.yaml'));
  });

  it('is valid OpenAPI 3.1, every operation named, with a 4xx response and examples', async () => {
    const document = (await SwaggerParser.validate(
      new URL('../../openapi.yaml', import.meta.url).pathname,
    )) as unknown as { paths: Record<string, Record<string, OperationShape>> };
    const operations = Object.values(document.paths).flatMap((item) => Object.values(item));
    expect(operations).toHaveLength(20);
    for (const op of operations) {
      expect(op.operationId, JSON.stringify(op.summary)).toBeTruthy();
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => s.startsWith('4')),
        op.operationId,
      ).toBe(true);
      const ok = statuses.find((s) => s.startsWith('2'))!;
      const content = Object.values(op.responses[ok]!.content ?? {});
      if (ok !== '204' && content[0]?.schema?.format !== 'binary')
        expect(content[0]?.example, `${op.operationId} response example`).toBeDefined();
      const body = op.requestBody?.content['application/json'];
      if (body)
        expect(body.example ?? body.examples, `${op.operationId} request example`).toBeTruthy();
    }
  });

  it('has a typed client generated from the committed document', async () => {
    expect(await clientTypes()).toBe(committed('test/client/openapi-types.ts'));
  });
});

interface OperationShape {
  operationId?: string;
  summary?: string;
  requestBody?: { content: Record<string, { example?: unknown; examples?: unknown }> };
  responses: Record<
    string,
    { content?: Record<string, { example?: unknown; schema?: { format?: string } }> }
  >;
}
