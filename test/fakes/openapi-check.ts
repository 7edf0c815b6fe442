/**
 * Checks a request an adapter sent (or an answer a fake gave) against the providers' own OpenAPI documents, so that
 * the fakes are not the only judge of what a provider accepts. A deliberately small validator for the JSON Schema
 * subset those documents use ($ref, type, nullable, required, properties, items, enum, minLength/maxLength, pattern,
 * maxItems), plus one rule the documents cannot state: every property name sent must be declared (`strict`).
 *
 *   const spec = loadSpec('sendgrid_mail_v3.json');          // undefined when the documents are not on this machine
 *   const schema = requestSchema(spec, '/v3/mail/send', 'post', 'application/json');
 *   expect(validate(spec, schema, body)).toEqual([]);         // a list of problems, empty when valid
 *
 * The documents live outside the repository (HERALD_SPECS_DIR, default ../shared/specs beside the checkout).
 */
import fs from 'node:fs';
import path from 'node:path';

export type OpenApiDoc = { paths: Record<string, Record<string, unknown>>; [key: string]: unknown };

interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  maxItems?: number;
}

export const specsDir = process.env.HERALD_SPECS_DIR ?? path.resolve(__dirname, '../../../shared/specs');

export function loadSpec(file: string): OpenApiDoc | undefined {
  const full = path.join(specsDir, file);
  if (!fs.existsSync(full)) return undefined;
  return JSON.parse(fs.readFileSync(full, 'utf8')) as OpenApiDoc;
}

function resolve<T>(doc: OpenApiDoc, node: T): T {
  let current: unknown = node;
  while (current && typeof current === 'object' && typeof (current as Schema).$ref === 'string') {
    const ref = (current as Schema).$ref as string;
    if (!ref.startsWith('#/')) throw new Error(`external $ref not supported: ${ref}`);
    current = ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], doc);
    if (current === undefined) throw new Error(`unresolvable $ref: ${ref}`);
  }
  return current as T;
}

function operation(doc: OpenApiDoc, route: string, method: string): Record<string, unknown> {
  const op = doc.paths[route]?.[method];
  if (!op || typeof op !== 'object') throw new Error(`no ${method.toUpperCase()} ${route} in the document`);
  return op as Record<string, unknown>;
}

type Content = { content?: Record<string, { schema?: Schema }> };

export function requestSchema(doc: OpenApiDoc, route: string, method: string, contentType: string): Schema {
  const body = resolve(doc, operation(doc, route, method).requestBody as Content | undefined);
  const schema = body?.content?.[contentType]?.schema;
  if (!schema) throw new Error(`no ${contentType} request body for ${method.toUpperCase()} ${route}`);
  return schema;
}

export function responseSchema(doc: OpenApiDoc, route: string, method: string, status: number): Schema {
  const responses = operation(doc, route, method).responses as Record<string, unknown> | undefined;
  const response = resolve(doc, responses?.[String(status)] as Content | undefined);
  const schema = response?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`no JSON ${status} response for ${method.toUpperCase()} ${route}`);
  return schema;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Problems found in `value`, each prefixed with its JSON path; empty when the value is valid. */
export function validate(doc: OpenApiDoc, schemaOrRef: Schema, value: unknown, at = '$', strict = true): string[] {
  const schema = resolve(doc, schemaOrRef);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const actual = typeOf(value);
  if (value === null) {
    return schema.nullable || types.includes('null') || types.length === 0 ? [] : [`${at}: null is not allowed`];
  }
  if (types.length > 0 && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
    return [`${at}: expected ${types.join('|')}, got ${actual}`];
  }
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not in the enum`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${at}: shorter than min`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${at}: longer than max`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) {
      problems.push(`${at}: does not match ${schema.pattern}`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${at}: too many items`);
    if (schema.items) value.forEach((item, i) => problems.push(...validate(doc, schema.items!, item, `${at}[${i}]`)));
  }
  if (actual === 'object') {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (record[name] === undefined) problems.push(`${at}: missing required ${name}`);
    }
    if (schema.properties) {
      for (const [name, item] of Object.entries(record)) {
        const property = schema.properties[name];
        if (!property) {
          if (strict) problems.push(`${at}: ${name} is not declared in the document`);
          continue;
        }
        problems.push(...validate(doc, property, item, `${at}.${name}`, strict));
      }
    }
  }
  return problems;
}
