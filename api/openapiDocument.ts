// The OpenAPI 3.1 document (api/openapi.yaml), the source of truth of the REST API: read once,
// served as YAML and JSON, and the input of the generated types (api/openapi.d.ts, sdk/).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const OPENAPI_PATH = new URL('./openapi.yaml', import.meta.url);

/** The document's text, as committed. */
export const openApiYaml: string = readFileSync(OPENAPI_PATH, 'utf8');

/** The document as an object (for /api/v1/openapi.json and the contract tests). */
export const openApiDocument: Record<string, any> = parse(openApiYaml);
