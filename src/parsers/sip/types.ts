/** Records produced by the SIP message parser (RFC 3261 grammar, read leniently as servers do). */

/** Largest message parsed: a UDP datagram cannot be larger, and a TCP frame past it is a flood, not a request. */
export const SIP_MESSAGE_LIMIT = 64 * 1024;
/** More header fields than any real UA sends; a message past it is refused instead of walked. */
export const SIP_HEADER_LIMIT = 200;

export interface SipVia {
  /** Upper-cased as written: `UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP`. */
  transport: string;
  host: string;
  port?: number;
  branch?: string;
  /** `true` for a bare `;rport` (a request asking for it), the number once a server filled it in. */
  rport?: number | true;
  received?: string;
}

/** From, To or Contact. `user` is kept as written (percent escapes not decoded), so it cannot gain control bytes. */
export interface SipAddress {
  display?: string;
  /** The URI as written, without the angle brackets. */
  uri: string;
  /** Lower-cased: `sip`, `sips`, `tel`, or whatever else was written. */
  scheme?: string;
  user?: string;
  host?: string;
  port?: number;
  tag?: string;
  /** Header parameters after the address (`tag`, `expires`, `q`...), names lower-cased. */
  params: Record<string, string>;
}

/** Authorization / Proxy-Authorization credentials, or a WWW-Authenticate / Proxy-Authenticate challenge. */
export interface SipDigest {
  scheme: string;
  username?: string;
  realm?: string;
  nonce?: string;
  response?: string;
  uri?: string;
  qop?: string;
  cnonce?: string;
  nc?: string;
  algorithm?: string;
  opaque?: string;
  stale?: string;
}

interface SipMessageBase {
  /** Every header field by lower-cased full name (compact forms expanded), values trimmed and unfolded, in order. */
  headers: Map<string, string[]>;
  /** One entry per Via value, top-most first, from separate lines and comma-separated lists alike. */
  vias: SipVia[];
  /** The top-most Via (the one a transaction is matched by), when it parses; `vias[0]` without parsing the rest. */
  via?: SipVia;
  from?: SipAddress;
  to?: SipAddress;
  /** The first Contact; `contacts` holds them all (a 200 to REGISTER lists every binding). */
  contact?: SipAddress | undefined;
  contacts: SipAddress[];
  callId?: string;
  cseq?: { seq: number; method: string };
  /** User-Agent header (requests send it; responses carry `server` instead). */
  userAgent?: string;
  server?: string;
  /** From Authorization, else Proxy-Authorization. */
  authorization?: SipDigest;
  /** From WWW-Authenticate, else Proxy-Authenticate. */
  wwwAuthenticate?: SipDigest;
  expires?: number;
  maxForwards?: number;
  contentLength?: number;
  /** At most Content-Length bytes (all the rest when absent), decoded as UTF-8; bounded by SIP_MESSAGE_LIMIT. */
  body: string;
  /** The start line and header fields as received (up to the blank line), for an event's bounded `raw`. */
  head: string;
}

export interface SipRequest extends SipMessageBase {
  kind: 'request';
  method: string;
  requestUri: string;
}

export interface SipResponse extends SipMessageBase {
  kind: 'response';
  /** From CSeq: the method this response answers. */
  method?: string;
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;
