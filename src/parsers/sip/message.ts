import { fieldName, listValues, parseCount, readHeaders, splitOutside } from './headers.js';
import { parseAddress, parseDigest, parseVia } from './fields.js';
import { SIP_HEADER_LIMIT, SIP_MESSAGE_LIMIT, type SipAddress, type SipDigest, type SipMessage, type SipRequest, type SipResponse, type SipVia } from './types.js';

export * from './types.js';

const REQUEST_LINE = /^([A-Za-z0-9.!%*_+`'~-]+) +((?:sips?|tel):\S+) +SIP\/2\.0 *$/i;
const STATUS_LINE = /^SIP\/2\.0 +([1-6]\d\d)(?: +(.*))?$/i;

/**
 * Where the header section ends in `bytes`: the index of the blank line and the index where the body starts.
 * Bare LF line ends are accepted, as lenient servers do. Null when no blank line is there yet.
 */
const LF_CRLF = Buffer.from('\n\r\n', 'latin1');
const LF_LF = Buffer.from('\n\n', 'latin1');

export function findHeaderEnd(bytes: Buffer, from = 0): { head: number; body: number } | null {
  // Native searches: the usual CRLF CRLF, and a bare LF LF from a lenient sender; the earlier one wins.
  const crlf = bytes.indexOf(LF_CRLF, from);
  const lf = bytes.indexOf(LF_LF, from);
  if (lf >= 0 && (crlf < 0 || lf < crlf)) return { head: lf, body: lf + 2 };
  if (crlf >= 0) return { head: crlf, body: crlf + 3 };
  return null;
}

/**
 * One SIP request or response (a UDP datagram, a HEP payload, a frame from SipStreamDecoder). Pure and
 * I/O-free; never throws. Null for anything whose first line is not a SIP request or status line, for input
 * past SIP_MESSAGE_LIMIT bytes and for more than SIP_HEADER_LIMIT header fields.
 */
export function parseSipMessage(data: Buffer | string): SipMessage | null {
  try {
    if (typeof data === 'string' && data.length > SIP_MESSAGE_LIMIT) return null;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.length > SIP_MESSAGE_LIMIT) return null;
    return parseBytes(bytes);
  } catch {
    // Every path above is bounded and checked; this is the promise to callers that a hostile packet cannot
    // stop the pipeline, even through a bug here.
    return null;
  }
}

/** The header values the message's eager fields come from: the first of each, as written. */
interface FirstValues {
  via?: string;
  from?: string;
  to?: string;
  contact?: string;
  callId?: string;
  cseq?: string;
  userAgent?: string;
  server?: string;
  authorization?: string;
  proxyAuthorization?: string;
  wwwAuthenticate?: string;
  proxyAuthenticate?: string;
  expires?: string;
  maxForwards?: string;
  contentLength?: string;
}

const FIRST_KEY: Record<string, keyof FirstValues> = {
  via: 'via', from: 'from', to: 'to', contact: 'contact', 'call-id': 'callId', cseq: 'cseq', 'user-agent': 'userAgent', server: 'server',
  authorization: 'authorization', 'proxy-authorization': 'proxyAuthorization', 'www-authenticate': 'wwwAuthenticate',
  'proxy-authenticate': 'proxyAuthenticate', expires: 'expires', 'max-forwards': 'maxForwards', 'content-length': 'contentLength',
};

/**
 * The parts every consumer reads (From, To, Call-ID, CSeq, credentials...) are parsed at once; the full header
 * map, every Via, every Contact and the body are parsed when first read. A detector looking at 100k messages a
 * second reads a handful of fields and never pays for the rest.
 */
abstract class ParsedMessage {
  readonly #bytes: Buffer;
  readonly #bodyStart: number;
  #headers: Map<string, string[]> | undefined;
  #vias: SipVia[] | undefined;
  #contacts: SipAddress[] | undefined;
  #body: string | undefined;
  declare via?: SipVia;
  declare from?: SipAddress;
  declare to?: SipAddress;
  declare contact?: SipAddress;
  declare callId?: string;
  declare cseq?: { seq: number; method: string };
  declare userAgent?: string;
  declare server?: string;
  declare authorization?: SipDigest;
  declare wwwAuthenticate?: SipDigest;
  declare expires?: number;
  declare maxForwards?: number;
  declare contentLength?: number;
  readonly head: string;

  constructor(bytes: Buffer, bodyStart: number, head: string, headers: Map<string, string[]> | undefined) {
    this.#bytes = bytes;
    this.#bodyStart = bodyStart;
    this.#headers = headers;
    this.head = head;
  }

  get headers(): Map<string, string[]> {
    // The eager pass already counted the fields against SIP_HEADER_LIMIT, so this cannot come back null.
    return (this.#headers ??= readHeaders(splitLines(this.head), 1) ?? new Map());
  }

  get vias(): SipVia[] {
    return (this.#vias ??= listValues(this.headers.get('via')).map(parseVia).filter((v): v is SipVia => v !== null));
  }

  get contacts(): SipAddress[] {
    return (this.#contacts ??= listValues(this.headers.get('contact')).map(parseAddress).filter((a): a is SipAddress => a !== null));
  }

  get body(): string {
    if (this.#body === undefined) {
      const bytes = this.#bodyStart < 0 ? Buffer.alloc(0) : this.#bytes.subarray(this.#bodyStart);
      const length = this.contentLength;
      this.#body = (length === undefined ? bytes : bytes.subarray(0, length)).toString('utf8');
    }
    return this.#body;
  }
}

class ParsedRequest extends ParsedMessage implements SipRequest {
  readonly kind = 'request' as const;
  constructor(
    readonly method: string,
    readonly requestUri: string,
    bytes: Buffer, bodyStart: number, head: string, headers: Map<string, string[]> | undefined,
  ) {
    super(bytes, bodyStart, head, headers);
  }
}

class ParsedResponse extends ParsedMessage implements SipResponse {
  readonly kind = 'response' as const;
  declare method?: string;
  constructor(
    readonly status: number,
    readonly reason: string,
    bytes: Buffer, bodyStart: number, head: string, headers: Map<string, string[]> | undefined,
  ) {
    super(bytes, bodyStart, head, headers);
  }
}

function parseBytes(bytes: Buffer): SipMessage | null {
  const end = findHeaderEnd(bytes);
  const headText = bytes.subarray(0, end === null ? bytes.length : end.head).toString('utf8');
  const firstBreak = headText.indexOf('\n');
  const startLine = stripCr(firstBreak < 0 ? headText : headText.slice(0, firstBreak));
  const request = REQUEST_LINE.exec(startLine);
  const status = request === null ? STATUS_LINE.exec(startLine) : null;
  if (request === null && status === null) return null;

  // One pass over the text for the first value of each eager field, without splitting it into lines; a
  // folded header sends us to the full reader instead.
  let first: FirstValues = {};
  let headers: Map<string, string[]> | undefined;
  let count = 0;
  for (let pos = firstBreak; pos >= 0; ) {
    const start = pos + 1;
    const next = headText.indexOf('\n', start);
    pos = next;
    let lineEnd = next < 0 ? headText.length : next;
    if (lineEnd > start && headText.charCodeAt(lineEnd - 1) === 0x0d) lineEnd--;
    const lead = headText.charCodeAt(start);
    if (lead === 0x20 || lead === 0x09) {
      headers = readHeaders(splitLines(headText), 1) ?? undefined;
      if (headers === undefined) return null;
      first = {};
      for (const [name, key] of Object.entries(FIRST_KEY)) {
        const value = headers.get(name)?.[0];
        if (value !== undefined) first[key] = value;
      }
      break;
    }
    const colon = headText.indexOf(':', start);
    if (colon <= start || colon >= lineEnd) continue;
    let nameEnd = colon;
    while (nameEnd > start && (headText.charCodeAt(nameEnd - 1) === 0x20 || headText.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
    const name = fieldName(headText.slice(start, nameEnd));
    if (name === null) continue;
    if (++count > SIP_HEADER_LIMIT) return null;
    const key = FIRST_KEY[name];
    if (key !== undefined && first[key] === undefined) first[key] = headText.slice(colon + 1, lineEnd).trim();
  }

  const bodyStart = end === null ? -1 : end.body;
  const message = request !== null
    ? new ParsedRequest(request[1]!, request[2]!, bytes, bodyStart, headText, headers)
    : new ParsedResponse(Number(status![1]), (status![2] ?? '').trim(), bytes, bodyStart, headText, headers);
  const cseqMatch = first.cseq === undefined ? null : /^(\d{1,10})\s+(\S+)$/.exec(first.cseq);
  const cseq = cseqMatch === null ? undefined : { seq: Number(cseqMatch[1]), method: cseqMatch[2]! };
  if (message instanceof ParsedResponse && cseq !== undefined) message.method = cseq.method;
  // Only fields with a value are set (exactOptionalPropertyTypes): one check each, no intermediate object.
  const topVia = first.via === undefined ? undefined : parseVia(splitOutside(first.via, ',')[0]!.trim());
  if (topVia) message.via = topVia;
  const from = address(first.from);
  if (from !== undefined) message.from = from;
  const to = address(first.to);
  if (to !== undefined) message.to = to;
  // Usually the first Contact line holds it; else the first parseable one of all of them.
  const contact = first.contact === undefined ? undefined : (firstContact(first.contact) ?? message.contacts[0]);
  if (contact !== undefined) message.contact = contact;
  if (first.callId !== undefined) message.callId = first.callId;
  if (cseq !== undefined) message.cseq = cseq;
  if (first.userAgent !== undefined) message.userAgent = first.userAgent;
  if (first.server !== undefined) message.server = first.server;
  const authorization = digest(first.authorization ?? first.proxyAuthorization);
  if (authorization !== undefined) message.authorization = authorization;
  const challenge = digest(first.wwwAuthenticate ?? first.proxyAuthenticate);
  if (challenge !== undefined) message.wwwAuthenticate = challenge;
  const expires = parseCount(first.expires);
  if (expires !== undefined) message.expires = expires;
  const maxForwards = parseCount(first.maxForwards);
  if (maxForwards !== undefined) message.maxForwards = maxForwards;
  const contentLength = parseCount(first.contentLength);
  if (contentLength !== undefined) message.contentLength = contentLength;
  return message;
}

function stripCr(line: string): string {
  return line.charCodeAt(line.length - 1) === 0x0d ? line.slice(0, -1) : line;
}

/** The header text as lines without their CR. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) lines[i] = stripCr(lines[i]!);
  return lines;
}

/** The first parseable address of a Contact value (`<a>, <b>` lists several). */
function firstContact(value: string): SipAddress | undefined {
  for (const part of splitOutside(value, ',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const address = parseAddress(trimmed);
    if (address !== null) return address;
  }
  return undefined;
}

function address(value: string | undefined): SipAddress | undefined {
  return value === undefined ? undefined : parseAddress(value) ?? undefined;
}

function digest(value: string | undefined): SipDigest | undefined {
  return value === undefined ? undefined : parseDigest(value) ?? undefined;
}
