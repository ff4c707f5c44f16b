// Reading a request's body into memory, within the size limit, undoing a Content-Encoding
// (gzip, deflate, br) the way body-parser did before the inbound route left Express. The limit
// applies to the decoded bytes, and those are what signatures are checked against; an encoded
// body's bytes on the wire are held to the same limit (trailing bytes after a gzip stream are
// otherwise read and ignored without end), and the decoder is fed no faster than it decodes.
//
// Every body held in memory counts against one ByteBudget for the process (bytes in flight:
// read, or waiting to be recorded). A body that would take it past its limit is refused with
// 503 and Retry-After, so a crowd of large or slow requests cannot exhaust memory.
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

export type BodyResult =
  | { ok: true; body: Buffer; /** bytes taken from the budget: release them when the request is done */ held: number }
  | { ok: false; status: 400 | 413 | 415 | 503; error: string };

/** The bytes of request bodies held in memory at once, across requests; limit 0 = none. */
export class ByteBudget {
  private used = 0;
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get inUse(): number {
    return this.used;
  }
  take(bytes: number): boolean {
    if (this.limit > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

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

export function readBody(req: IncomingMessage, limitBytes: number, budget: ByteBudget = new ByteBudget(0)): Promise<BodyResult> {
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
    const overBudget: BodyResult = { ok: false, status: 503, error: 'too many request bytes in flight; retry later' };
    const declared = Number(req.headers['content-length']);
    let settled = false;
    let size = 0; // decoded bytes held, all taken from the budget
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      if (!result.ok) budget.release(size);
      resolve(result);
    };

    // Refused, the rest is read and thrown away so the answer reaches a client that is still
    // sending (unless it keeps sending far past the limit).
    let received = 0;
    const drainThenRefuse = (refusal: BodyResult) => {
      if (settled) return;
      settled = true;
      budget.release(size);
      decoder?.destroy();
      if (req.readableEnded) return resolve(refusal); // all of it arrived; only the decoded size was over
      req.removeAllListeners('data');
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limitBytes * DRAIN_FACTOR) req.socket.destroy();
      });
      req.once('end', () => resolve(refusal));
      req.resume();
    };
    if (encoding === '' && Number.isFinite(declared) && declared > limitBytes) return drainThenRefuse(tooLarge);

    const chunks: Buffer[] = [];
    const source: Readable = decoder ?? req;
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.length > limitBytes) return drainThenRefuse(tooLarge);
      if (!budget.take(chunk.length)) return drainThenRefuse(overBudget);
      size += chunk.length;
      chunks.push(chunk);
    });
    source.once('end', () => settle({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), held: size }));
    source.once('error', () => settle({ ok: false, status: 400, error: `body is not valid ${encoding || 'data'}` }));
    if (decoder) {
      if (Number.isFinite(declared) && declared > limitBytes) return drainThenRefuse(tooLarge);
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limitBytes) return drainThenRefuse(tooLarge);
        // backpressure: no more wire bytes until the decoder has caught up
        if (!decoder.write(chunk)) {
          req.pause();
          decoder.once('drain', () => req.resume());
        }
      });
      req.once('end', () => decoder.end());
    }
    req.once('error', () => settle({ ok: false, status: 400, error: 'could not read the request body' }));
    req.once('close', () => {
      if (!req.complete) settle({ ok: false, status: 400, error: 'the request was aborted' });
    });
  });
}
