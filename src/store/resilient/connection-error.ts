/**
 * Whether a store failure means "PostgreSQL cannot be reached" (retry later, nothing was wrong with the write)
 * rather than "the write itself was refused" (a constraint, a bad value: retrying would fail forever).
 */

/** Socket errors of a server that is down, restarting or cut off. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/**
 * SQLSTATEs of a server going away or not ready yet: admin_shutdown, crash_shutdown, cannot_connect_now (the
 * server is starting up or recovering after a crash). Class 08 (connection exceptions) is matched by prefix.
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03']);

/** What `pg` throws without a code when the socket goes away under a query or a connection attempt. */
const DRIVER_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed/i;

export function isConnectionError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (DRIVER_MESSAGES.test(current.message)) return true;
    // Node reports a refused connection to every address of a name as one AggregateError.
    if (current instanceof AggregateError && current.errors.some((inner) => isConnectionError(inner))) return true;
  }
  return false;
}
