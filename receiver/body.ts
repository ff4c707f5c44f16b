// Turning the raw bytes of a verified request into the value that is stored and mapped.
// JSON (and +json), form-encoded and text/plain are accepted; a request without a
// Content-Type (Tactical RMM can send one) is taken as JSON when it parses and text otherwise.
import { parseJson as parseJsonText } from '../core/json.ts';

export type ParsedBody =
  | { ok: true; format: 'json' | 'form' | 'text'; value: unknown; text: string; mediaType: string | null }
  | { ok: false; status: 400 | 415; error: string; text: string | null; mediaType: string | null };

function mediaTypeOf(contentType: string | undefined): { mediaType: string | null; charset: string | null } {
  if (!contentType) return { mediaType: null, charset: null };
  const [type = '', ...params] = contentType.split(';');
  let charset: string | null = null;
  for (const param of params) {
    const [key, value] = param.split('=');
    if (key?.trim().toLowerCase() === 'charset' && value) charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { mediaType: type.trim().toLowerCase() || null, charset };
}

function decode(raw: Buffer, charset: string | null): string | { error: string } {
  const label = charset ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    return { error: `unsupported charset "${label}"` };
  }
  try {
    const text = decoder.decode(raw);
    // Postgres text and jsonb cannot hold NUL characters.
    if (text.includes('\u0000')) return { error: 'body contains a NUL character' };
    return text;
  } catch {
    return { error: `body is not valid ${label}` };
  }
}

function formToObject(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return { ...out };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: parseJsonText(text) };
  } catch (error) {
    return { ok: false, error: `malformed JSON body: ${(error as Error).message}` };
  }
}

export function parseBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  const { mediaType, charset } = mediaTypeOf(contentType);
  const isJson = mediaType === 'application/json' || (mediaType !== null && mediaType.endsWith('+json'));
  const isForm = mediaType === 'application/x-www-form-urlencoded';
  const isText = mediaType === 'text/plain';
  if (mediaType !== null && !isJson && !isForm && !isText) {
    return {
      ok: false,
      status: 415,
      error: `unsupported content type "${mediaType}": send application/json, application/x-www-form-urlencoded or text/plain`,
      text: null,
      mediaType,
    };
  }

  const text = decode(raw, charset);
  if (typeof text !== 'string') return { ok: false, status: 400, error: text.error, text: null, mediaType };

  if (isForm) return { ok: true, format: 'form', value: formToObject(text), text, mediaType };
  if (isText) return { ok: true, format: 'text', value: text, text, mediaType };
  const json = parseJson(text);
  if (json.ok) return { ok: true, format: 'json', value: json.value, text, mediaType };
  if (mediaType === null) return { ok: true, format: 'text', value: text, text, mediaType };
  return { ok: false, status: 400, error: json.error, text, mediaType };
}
