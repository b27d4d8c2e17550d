import { createHash } from 'node:crypto';
import { parseSipMessage } from '../parsers/sip/message.js';
import type { SipRequest, SipResponse } from '../parsers/sip/types.js';

/** Test helpers: requests shaped like the attack tools' and a SIP client's side of digest auth. Test code only. */

export interface RequestShape {
  method: string;
  uri?: string;
  from?: string;
  to?: string;
  callId?: string;
  cseq?: number;
  branch?: string;
  via?: string;
  userAgent?: string;
  contact?: string;
  headers?: readonly string[];
}

export function requestText(shape: RequestShape): string {
  const uri = shape.uri ?? 'sip:192.0.2.1';
  return [
    `${shape.method} ${uri} SIP/2.0`,
    `Via: ${shape.via ?? `SIP/2.0/UDP 10.0.0.99:5060;branch=${shape.branch ?? 'z9hG4bK-1'};rport`}`,
    'Max-Forwards: 70',
    `From: ${shape.from ?? '<sip:100@192.0.2.1>;tag=abc'}`,
    `To: ${shape.to ?? '<sip:100@192.0.2.1>'}`,
    `Call-ID: ${shape.callId ?? 'call-1'}`,
    `CSeq: ${shape.cseq ?? 1} ${shape.method}`,
    ...(shape.userAgent === undefined ? [] : [`User-Agent: ${shape.userAgent}`]),
    ...(shape.contact === undefined ? [] : [`Contact: ${shape.contact}`]),
    ...(shape.headers ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export function request(shape: RequestShape | string): SipRequest {
  const parsed = parseSipMessage(typeof shape === 'string' ? shape : requestText(shape));
  if (parsed?.kind !== 'request') throw new Error('test request does not parse');
  return parsed;
}

export function response(bytes: Buffer | null): SipResponse {
  const parsed = bytes === null ? null : parseSipMessage(bytes);
  if (parsed?.kind !== 'response') throw new Error(`expected a SIP response, got ${bytes === null ? 'none' : bytes.toString()}`);
  return parsed;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export interface ClientCredentials {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** Answer as svcrack does on a challenge without qop: `qop=auth` written, hashed without it. */
  svcrackBug?: boolean;
  /** Override the realm or nonce the challenge gave. */
  realm?: string;
  nonce?: string;
}

/** The Authorization value a client sends in answer to `challenge` (a 401 or 407), written from RFC 2617 directly. */
export function authorize(challenge: SipResponse, credentials: ClientCredentials): string {
  const offered = challenge.wwwAuthenticate;
  if (offered === undefined) throw new Error('the response carries no challenge');
  const realm = credentials.realm ?? offered.realm ?? '';
  const nonce = credentials.nonce ?? offered.nonce ?? '';
  const { username, password, method, uri } = credentials;
  const ha1 = md5(`${username}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  let value = `Digest username="${username}",realm="${realm}",nonce="${nonce}",uri="${uri}"`;
  if (offered.qop === 'auth' && credentials.svcrackBug !== true) {
    const cnonce = 'f00dcafe';
    const nc = '00000001';
    value += `,cnonce="${cnonce}",nc=${nc},qop=auth,response="${md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)}"`;
  } else {
    value += `,algorithm=MD5${credentials.svcrackBug ? ',qop=auth' : ''},response="${md5(`${ha1}:${nonce}:${ha2}`)}"`;
  }
  if (offered.opaque !== undefined) value += `,opaque="${offered.opaque}"`;
  return value;
}

/** svcrack's From tag for a guess: hex(`user:password` 0x01 random digits). */
export function svcrackTag(user: string, password: string): string {
  return Buffer.from(`${user}:${password}\x01342724225`, 'utf8').toString('hex');
}
