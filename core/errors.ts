// Errors a user caused, with a message meant for them. `code` is stable for APIs to map
// (validation → 400, conflict → 409, not_found → 404, bad_expression → 422).
export type UserErrorCode = 'validation' | 'conflict' | 'not_found' | 'bad_expression';

export class UserError extends Error {
  override readonly name = 'UserError';
  readonly code: UserErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: UserErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}
