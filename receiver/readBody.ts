// Reading a request's body into memory, within the size limit, undoing a Content-Encoding
// (gzip, deflate, br) the way body-parser did before the inbound route left Express. The limit
// applies to the decoded bytes, and those are what signatures are checked against.
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; status: 400 | 413 | 415; error: string };

/** Past this many times the limit, an oversized body is not drained any further: the connection is cut. */
const DRAIN_FACTOR = 16;

function decoderFor(encoding: string): Transform | null | undefined {
  switch (encoding) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    const decoder = decoderFor(encoding);
    if (decoder === undefined) {
      req.resume();
      req.once('end', () => resolve({ ok: false, status: 415, error: `unsupported content encoding "${encoding}"` }));
      req.once('error', () => resolve({ ok: false, status: 400, error: 'could not read the request body' }));
      return;
    }
    const tooLarge: BodyResult = { ok: false, status: 413, error: `body larger than the ${limitBytes}-byte limit` };
    const declared = Number(req.headers['content-length']);
    let settled = false;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };

    // Over the limit, the rest is read and thrown away so the answer reaches a client that is
    // still sending (unless it keeps sending far past the limit).
    let received = 0;
    const drainThenRefuse = () => {
      settled = true;
      decoder?.destroy();
      if (req.readableEnded) return resolve(tooLarge); // all of it arrived; only the decoded size was over
      req.removeAllListeners('data');
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limitBytes * DRAIN_FACTOR) req.socket.destroy();
      });
      req.once('end', () => resolve(tooLarge));
      req.resume();
    };
    if (encoding === '' && Number.isFinite(declared) && declared > limitBytes) return drainThenRefuse();

    const chunks: Buffer[] = [];
    let size = 0;
    const source: Readable = decoder ?? req;
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) return drainThenRefuse();
      chunks.push(chunk);
    });
    source.once('end', () => settle({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) }));
    source.once('error', () => settle({ ok: false, status: 400, error: `body is not valid ${encoding || 'data'}` }));
    if (decoder) {
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        decoder.write(chunk);
      });
      req.once('end', () => decoder.end());
    }
    req.once('error', () => settle({ ok: false, status: 400, error: 'could not read the request body' }));
    req.once('close', () => {
      if (!req.complete) settle({ ok: false, status: 400, error: 'the request was aborted' });
    });
  });
}
