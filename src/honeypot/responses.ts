import type { SipRequest } from '../parsers/sip/types.js';

/**
 * SIP responses as a PBX writes them (RFC 3261 §8.2.6): the request's Via, From, Call-ID and CSeq copied, a To
 * tag added, then our own headers. The top Via gets `received` and `rport` (RFC 3581) with the packet's source,
 * as a real server's would; the honeypot sends the response to that source and nowhere else, whatever the
 * Via, Contact or Request-URI say, so nothing written in a request can aim our answer at a third party.
 */

/** A response larger than this is not sent: echoing a sender's headers must not turn into amplification. */
export const RESPONSE_LIMIT = 4096;
/** A copied header value longer than this means the request is built to inflate the answer; it gets none. */
const VALUE_LIMIT = 1024;

export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 407: 'Proxy Authentication Required',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 486: 'Busy Here', 488: 'Not Acceptable Here',
  500: 'Server Internal Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 603: 'Decline', 604: 'Does Not Exist Anywhere',
};

export function reasonPhrase(status: number): string {
  const known = REASONS[status];
  if (known !== undefined) return known;
  if (status >= 600) return 'Global Failure';
  if (status >= 500) return 'Server Error';
  return 'Request Failure';
}

export interface ResponseSpec {
  status: number;
  headers?: readonly (readonly [string, string])[];
}

export interface ResponseContext {
  /** The packet's source: what goes into `received` and `rport`. */
  ip: string;
  port: number;
  /** Server header value (the PBX User-Agent the honeypot pretends to be). */
  server: string;
  /** The tag put on To when the request has none; stable per dialog so retransmissions get the same one. */
  toTag: string;
}

/** Splits off the first value of a comma-separated Via line (params are tokens; quoted commas do not occur). */
function splitTopVia(line: string): [string, string] {
  const comma = line.indexOf(',');
  return comma < 0 ? [line, ''] : [line.slice(0, comma).trim(), line.slice(comma)];
}

function topVia(via: string, ip: string, port: number): string {
  // `rport` without a value asks for the source port (RFC 3581 §4); one with a value or `received` is replaced.
  const params = via.split(';');
  const kept = params.filter((p, i) => i === 0 || !/^\s*(?:received|rport)\s*(?:=|$)/i.test(p));
  const asked = params.length !== kept.length && params.some((p) => /^\s*rport\s*(?:=|$)/i.test(p));
  return `${kept.join(';')};received=${ip}${asked ? `;rport=${port}` : ''}`;
}

/**
 * The response bytes, or null when the request lacks what a response needs (a readable Via, From, To, Call-ID, CSeq), a
 * copied value is out of bounds, or the whole would exceed RESPONSE_LIMIT.
 */
export function buildResponse(request: SipRequest, spec: ResponseSpec, context: ResponseContext): Buffer | null {
  const vias = request.headers.get('via') ?? [];
  const from = request.headers.get('from')?.[0];
  const to = request.headers.get('to')?.[0];
  const callId = request.headers.get('call-id')?.[0];
  const cseq = request.headers.get('cseq')?.[0];
  if (request.vias.length === 0 || vias.some((via) => via.trim() === '') || from === undefined || to === undefined || callId === undefined || cseq === undefined) return null;
  const copied = [...vias, from, to, callId, cseq];
  if (copied.some((value) => value.length > VALUE_LIMIT || /[\r\n]/.test(value))) return null;
  const [first, rest] = splitTopVia(vias[0] as string);
  const lines = [
    `SIP/2.0 ${spec.status} ${reasonPhrase(spec.status)}`,
    `Via: ${topVia(first, context.ip, context.port)}${rest}`,
    ...vias.slice(1).map((via) => `Via: ${via}`),
    `Call-ID: ${callId}`,
    `From: ${from}`,
    `To: ${request.to?.tag !== undefined || spec.status === 100 ? to : `${to};tag=${context.toTag}`}`,
    `CSeq: ${cseq}`,
    `Server: ${context.server}`,
    ...(spec.headers ?? []).map(([name, value]) => `${name}: ${value}`),
    'Content-Length: 0',
    '',
    '',
  ];
  const bytes = Buffer.from(lines.join('\r\n'), 'utf8');
  return bytes.length > RESPONSE_LIMIT ? null : bytes;
}
