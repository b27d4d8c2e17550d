/**
 * The catalog of coded errors. Every error the daemon raises on purpose comes from here, carries a stable
 * code, names the fault and the limit, and keeps the underlying error as `cause`.
 */

export const ERROR_CODES = {
  SW_ERR_CONFIG: 'invalid configuration',
  SW_ERR_CONFIG_READ: 'configuration file cannot be read',
  SW_ERR_ARGUMENT: 'invalid command-line argument',
  SW_ERR_IP: 'invalid IP address or prefix',
  SW_ERR_DURATION: 'invalid duration',
  SW_ERR_PATTERN: 'invalid custom pattern',
  SW_ERR_STORE: 'store failure',
  SW_ERR_STORE_MIGRATION: 'store migration failed',
  SW_ERR_STORE_OFFLINE: 'the fleet store cannot be reached; writes are queued until it is back',
  SW_ERR_SOURCE: 'source failure',
  SW_ERR_ENFORCER: 'enforcer failure',
  SW_ERR_FEED: 'intelligence feed failure',
  SW_ERR_NOT_FOUND: 'not found',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export class SipwardenError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SipwardenError';
    this.code = code;
  }
}

export function swError(code: ErrorCode, message: string, cause?: unknown): SipwardenError {
  return new SipwardenError(code, message, cause === undefined ? undefined : { cause });
}

export function isSipwardenError(error: unknown, code?: ErrorCode): error is SipwardenError {
  return error instanceof SipwardenError && (code === undefined || error.code === code);
}

/** A message safe to print for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof SipwardenError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
