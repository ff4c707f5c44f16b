// One mapping from what went wrong to what an API says, for GraphQL (extensions.code) and REST
// (status + code): a UserError from the validators, or a Postgres error raised by a policy or
// an SQL function. Anything else is internal and its message is not shown.
import { UserError } from '../core/errors.ts';

export type ApiErrorCode = 'VALIDATION' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'BAD_EXPRESSION' | 'UNAUTHENTICATED';

export interface ApiError {
  code: ApiErrorCode;
  status: number;
  message: string;
  details?: Record<string, unknown>;
}

const STATUS: Record<ApiErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BAD_EXPRESSION: 422,
};

export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  readonly code: ApiErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ApiErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

function make(code: ApiErrorCode, message: string, details?: Record<string, unknown>): ApiError {
  return { code, status: STATUS[code], message, ...(details ? { details } : {}) };
}

/** SQLSTATEs the SQL API raises on purpose, or that a constraint raises on bad input. */
function fromPostgres(error: { code: string; message: string; constraint?: string }): ApiError | null {
  switch (error.code) {
    case '42501': // insufficient_privilege: require_permission, a restrictive policy, a missing grant
      return make('FORBIDDEN', error.message.startsWith('permission denied') ? error.message : `permission denied: ${error.message}`);
    case 'P0002': // no_data_found: "inbound webhook … not found"
      return make('NOT_FOUND', error.message);
    case '23505': // unique_violation
      return make('CONFLICT', error.constraint === 'inbound_webhooks_tenant_slug_key'
        ? 'this tenant already has a webhook with that slug'
        : 'that conflicts with an existing record');
    case '22023': // invalid_parameter_value
    case '22P02': // invalid_text_representation (a malformed uuid)
    case '22007': // invalid_datetime_format
    case '22008': // datetime_field_overflow
    case '23514': // check_violation
    case '23502': // not_null_violation
    case '23503': // foreign_key_violation
      return make('VALIDATION', error.message);
    default:
      return null;
  }
}

/** The API's view of an error, or null when it is internal (to be logged and masked). */
export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiRequestError) return make(error.code, error.message, error.details);
  if (error instanceof UserError) {
    const code = ({ validation: 'VALIDATION', conflict: 'CONFLICT', not_found: 'NOT_FOUND', bad_expression: 'BAD_EXPRESSION' } as const)[error.code];
    return make(code, error.message, error.details);
  }
  const pgError = error as { code?: unknown; message?: unknown; severity?: unknown };
  if (typeof pgError?.code === 'string' && typeof pgError.message === 'string' && /^[0-9A-Z]{5}$/.test(pgError.code) && pgError.severity !== undefined) {
    return fromPostgres(pgError as { code: string; message: string; constraint?: string });
  }
  return null;
}
