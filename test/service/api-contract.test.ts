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
    expect(operations).toHaveLength(29);
    const named = operations.map((op) => op.operationId);
    expect(named.filter((id) => typeof id !== 'string' || id.length === 0)).toEqual([]);
    expect(new Set(named).size).toBe(operations.length);
    const lacking = (check: (op: OperationShape) => boolean) =>
      operations.filter((op) => !check(op)).map((op) => op.operationId);
    expect(lacking((op) => Object.keys(op.responses).some((s) => s.startsWith('4')))).toEqual([]);
    const success = (op: OperationShape) => {
      const status = Object.keys(op.responses).find((s) => s.startsWith('2'))!;
      return { status, content: Object.values(op.responses[status]!.content ?? {})[0] };
    };
    expect(
      lacking((op) => {
        const { status, content } = success(op);
        return (
          status === '204' || content?.schema?.format === 'binary' || 'example' in (content ?? {})
        );
      }),
    ).toEqual([]);
    expect(
      lacking((op) => {
        const body = op.requestBody?.content['application/json'];
        return body === undefined || 'example' in body || 'examples' in body;
      }),
    ).toEqual([]);
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
