import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';

/** A schema that is published once, under its `$id`, and referred to everywhere else. */
export type Named<T extends TSchema = TSchema> = T & { $id: string };

/** A `$ref` to a named schema (one with an `$id`) that keeps its static type. */
export function ref<T extends TSchema>(schema: T) {
  if (!schema.$id) throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#` });
}

/** The same, or null. */
export function nullableRef<T extends TSchema>(schema: T) {
  return Type.Union([ref(schema), Type.Null()]);
}

export const Nullable = <T extends TSchema>(schema: T, options: SchemaOptions = {}) =>
  Type.Union([schema, Type.Null()], options);

/** A page of a list: its items, how many in all pages, and the page asked for. */
export const pageOf = <T extends TSchema>(
  item: T,
  $id: string,
  description = 'A page, newest first',
  total = 'Items in all pages',
) =>
  Type.Object(
    {
      items: Type.Array(ref(item)),
      total: Type.Integer({ description: total }),
      limit: Type.Integer(),
      offset: Type.Integer(),
    },
    { $id, description },
  );

/** One of these strings. */
export const literals = <T extends readonly string[]>(values: T, options = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v as T[number])),
    options,
  );
