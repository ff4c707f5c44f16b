// The process's log, through pino: one JSON line per event on stderr (stdout belongs to CLI
// output), or pino-pretty's coloured lines when stderr is a terminal (LOG_FORMAT=json|pretty
// overrides). LOG_LEVEL: trace | debug | info | warn | error | fatal | silent.
//
// Callers pass ids and reasons, never secrets or bodies; as a second line of defence every field
// named like a secret (SECRET_FIELDS, at any of the first three levels, e.g. `headers.authorization`)
// is written as "[redacted]" whatever it holds. Lines written while a request is handled carry
// its request id (`req_id`, withRequestId) without the call site passing it.
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Field names whose values are never written (case as written by the code; headers are lower case). */
export const SECRET_FIELDS = [
  'secret', 'secrets', 'new_secret', 'secret_ciphertext', 'password', 'password_hash', 'token', 'api_key', 'apiKey',
  'authorization', 'cookie', 'set-cookie', 'x-signature', 'x-hub-signature', 'x-hub-signature-256', 'stripe-signature',
  'webhook-signature', 'x-slack-signature', 'x-api-key', 'x-csrf-token', 'master_key', 'masterKey', 'connectionString',
  'connection_string', 'database_url', 'DATABASE_URL', 'redis_url', 'REDIS_URL', 'INTAKE_MASTER_KEY', 'INTAKE_METRICS_TOKEN',
  'metrics_token', 'session', 'session_token', 'setup_token', 'request_body', 'request_headers', 'body',
];

const quoted = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`);
const join = (prefix: string, name: string) => (quoted(name).startsWith('[') ? `${prefix}${quoted(name)}` : `${prefix}.${name}`);
const REDACT_PATHS = SECRET_FIELDS.flatMap((name) => [quoted(name), join('*', name), join('*.*', name)]);

const requestIds = new AsyncLocalStorage<string>();

/** Runs `fn` with every line logged inside it (however deep, across awaits) tagged `req_id`. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestIds.run(requestId, fn);
}

/** A logger writing to `destination` (tests give a stream of their own; the process: stderr). */
export function createLogger(destination: DestinationStream, level = process.env.LOG_LEVEL || 'info'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin() {
        const id = requestIds.getStore();
        return id === undefined ? {} : { req_id: id };
      },
    },
    destination,
  );
}

function processDestination(): DestinationStream {
  const format = process.env.LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  // Synchronous writes: a line logged right before process.exit() is not lost.
  if (format === 'pretty') return pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid' });
  return pino.destination({ dest: 2, sync: true });
}

export const logger: Logger = createLogger(processDestination());

type Fields = Record<string, unknown>;

/** The call signature the code uses: a message, then fields. */
export const log = {
  debug: (message: string, fields?: Fields) => logger.debug(fields ?? {}, message),
  info: (message: string, fields?: Fields) => logger.info(fields ?? {}, message),
  warn: (message: string, fields?: Fields) => logger.warn(fields ?? {}, message),
  error: (message: string, fields?: Fields) => logger.error(fields ?? {}, message),
};

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
