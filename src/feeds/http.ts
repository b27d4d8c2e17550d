import { swError } from '../core/errors.js';

/**
 * What feed clients share about HTTP. Feed URLs often carry a key in their path (APIBAN v1 `/{key}/banned`,
 * the APIBAN ipset list `/ipset/{key}/list`), so nothing a feed logs or throws names more than the origin.
 */

/** `https://apiban.org/api/KEY/banned/17` -> `https://apiban.org/…`: the path may hold a key. */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(an invalid URL)';
  }
}

/** Removes every occurrence of each secret from a text bound for a log or an error. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('[key]');
  return out;
}

/** The caller's signal combined with a per-request timeout, so a hung server cannot stall a feed forever. */
export function requestSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/**
 * The body as text, refusing more than `maxBytes`: a feed that suddenly serves gigabytes (a misconfigured
 * mirror, an attacker on the path) must not take the daemon's memory with it.
 */
export async function readCapped(response: Response, maxBytes: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw swError('SW_ERR_FEED', `${what}: the response is ${declared} bytes, more than the limit of ${maxBytes}`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw swError('SW_ERR_FEED', `${what}: the response is larger than the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why a request failed, without the URL (undici puts the cause, e.g. ECONNREFUSED, in `cause`). */
export function fetchFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out or aborted';
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
