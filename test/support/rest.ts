// REST-over-HTTP for the contract tests: a small client, and a checker that validates every
// answer (status and body) against api/openapi.yaml with Ajv's JSON Schema 2020-12 (the dialect
// of OpenAPI 3.1), recording which documented operations and statuses were exercised.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../../api/openapiDocument.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface RestAnswer<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export type Method = 'get' | 'post' | 'put' | 'delete';

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema(openApiDocument, 'openapi');

/** the document's paths, templated: '/api/v1/inbound-webhooks/{id}' */
const templates = Object.keys(openApiDocument.paths).map((template) => ({
  template,
  regex: new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  literal: !template.includes('{'),
}));

/** The documented path a concrete path matches (literal paths win over templated ones). */
export function templateOf(path: string): string {
  const matches = templates.filter((t) => t.regex.test(path));
  const match = matches.find((t) => t.literal) ?? matches[0];
  if (!match) throw new Error(`no documented path matches ${path}`);
  return match.template;
}

function pointer(...parts: string[]): string {
  return parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** operation+status pairs checked so far: "get /api/v1/inbound-webhooks 200" */
export const exercised = new Set<string>();

/** Throws unless `status` is documented for the operation and the body matches its schema. */
export function checkAnswer(method: Method, path: string, answer: RestAnswer): void {
  const template = templateOf(path);
  const operation = openApiDocument.paths[template]?.[method];
  if (!operation) throw new Error(`${method} ${template} is not documented`);
  const status = String(answer.status);
  let response = operation.responses[status] ?? operation.responses[`${status[0]}XX`];
  if (!response) throw new Error(`${method} ${template} answered ${status}, which is not documented: ${answer.text}`);
  let ref = `openapi#/${pointer('paths', template, method, 'responses', status)}`;
  if (response.$ref) {
    ref = `openapi${response.$ref}`;
    response = openApiDocument.components.responses[response.$ref.split('/').at(-1)];
  }
  exercised.add(`${method} ${template} ${status}`);
  const media = response.content?.['application/json'];
  if (!media) {
    if (answer.text !== '') throw new Error(`${method} ${template} ${status} documents no body but got: ${answer.text}`);
    return;
  }
  const validate = ajv.getSchema(`${ref}/content/application~1json/schema`) ?? ajv.compile({ $ref: `${ref}/content/application~1json/schema` });
  if (!validate(answer.body)) {
    throw new Error(`${method} ${template} ${status}: body does not match the document: ${ajv.errorsText(validate.errors)}\n${answer.text}`);
  }
}

/** Validates `value` against a component schema, e.g. 'WorkflowWebhookEnvelope'. */
export function checkComponent(name: string, value: unknown): void {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
  if (!validate) throw new Error(`no component ${name}`);
  if (!validate(value)) throw new Error(`${name}: ${ajv.errorsText(validate.errors)}`);
}

export type RestRequest = <T = any>(method: Method, path: string, body?: unknown, headers?: Record<string, string>) => Promise<RestAnswer<T>>;

/** A client for one API key (null: none) whose every answer is checked against the document. */
export function restClient(baseUrl: string, apiKey: string | null, options: { header?: 'bearer' | 'x-api-key'; check?: boolean } = {}): RestRequest {
  return async (method, path, body, extraHeaders = {}) => {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (apiKey !== null) {
      if (options.header === 'x-api-key') headers['x-api-key'] = apiKey;
      else headers.authorization = `Bearer ${apiKey}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(baseUrl + path, {
      method: method.toUpperCase(),
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    const answer = { status: res.status, body: parsed, text, headers: res.headers };
    if (options.check !== false) checkAnswer(method, path.split('?')[0]!, answer);
    return answer;
  };
}
