import { fieldName, listValues, parseCount, readHeaders, splitOutside } from './headers.js';
import { parseAddress, parseDigest, parseVia } from './fields.js';
import { SIP_HEADER_LIMIT, SIP_MESSAGE_LIMIT, type SipAddress, type SipDigest, type SipMessage, type SipRequest, type SipResponse, type SipVia } from './types.js';

import { isAscii } from 'node:buffer';

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
  // A bare LF LF can only win if it comes first: search back from the CRLF end, not through the body.
  const lf = crlf < 0 ? bytes.indexOf(LF_LF, from) : crlf - 1 >= from ? bytes.lastIndexOf(LF_LF, crlf - 1) : -1;
  if (lf >= from && (crlf < 0 || lf < crlf)) return { head: lf, body: lf + 2 };
  if (crlf >= 0) return { head: crlf, body: crlf + 3 };
  return null;
}

const PROVISIONAL = Buffer.from('SIP/2.0 1', 'latin1');

/**
 * True for a provisional response (`SIP/2.0 1xx`): 100 Trying, 180 Ringing... carry nothing a detector reads,
 * so a collector can skip parsing them. Looks at nine bytes.
 */
export function isProvisionalResponse(bytes: Buffer): boolean {
  return bytes.length > PROVISIONAL.length && bytes.compare(PROVISIONAL, 0, PROVISIONAL.length, 0, PROVISIONAL.length) === 0;
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

/** Slots of the header values the message's eager fields come from: the first of each, as written. */
const EAGER = [
  'via', 'from', 'to', 'contact', 'call-id', 'cseq', 'user-agent', 'server', 'authorization', 'proxy-authorization',
  'www-authenticate', 'proxy-authenticate', 'expires', 'max-forwards', 'content-length',
] as const;
const SLOT = new Map<string, number>(EAGER.map((name, index) => [name, index]));
const slot = (name: (typeof EAGER)[number]): number => EAGER.indexOf(name);
const VIA = slot('via');
const FROM = slot('from');
const TO = slot('to');
const CONTACT = slot('contact');
const CALL_ID = slot('call-id');
const CSEQ = slot('cseq');
const USER_AGENT = slot('user-agent');
const SERVER = slot('server');
const AUTHORIZATION = slot('authorization');
const PROXY_AUTHORIZATION = slot('proxy-authorization');
const WWW_AUTHENTICATE = slot('www-authenticate');
const PROXY_AUTHENTICATE = slot('proxy-authenticate');
const EXPIRES = slot('expires');
const MAX_FORWARDS = slot('max-forwards');
const CONTENT_LENGTH = slot('content-length');

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
  #contact: SipAddress | null | undefined;
  /** The first Contact value as written; parsed on first use. */
  #contactText: string | undefined;
  #body: string | undefined;
  declare via?: SipVia;
  declare from?: SipAddress;
  declare to?: SipAddress;
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

  /** The first Contact (usually from the first Contact line, else the first parseable of all of them). */
  get contact(): SipAddress | undefined {
    if (this.#contact === undefined) {
      this.#contact = this.#contactText === undefined ? null : (firstContact(this.#contactText) ?? this.contacts[0] ?? null);
    }
    return this.#contact ?? undefined;
  }

  setContactText(text: string | undefined): void {
    this.#contactText = text;
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
  const headBytes = bytes.subarray(0, end === null ? bytes.length : end.head);
  // Almost every header section is ASCII, where latin1 is a plain copy; UTF-8 only when a byte says so.
  const headText = headBytes.toString(isAscii(headBytes) ? 'latin1' : 'utf8');
  const firstBreak = headText.indexOf('\n');
  const startLine = stripCr(firstBreak < 0 ? headText : headText.slice(0, firstBreak));
  const request = REQUEST_LINE.exec(startLine);
  const status = request === null ? STATUS_LINE.exec(startLine) : null;
  if (request === null && status === null) return null;

  // One pass over the text for the first value of each eager field, without splitting it into lines; a
  // folded header sends us to the full reader instead.
  let first: (string | undefined)[] = new Array<string | undefined>(EAGER.length).fill(undefined);
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
      first = EAGER.map((name) => headers!.get(name)?.[0]);
      break;
    }
    const colon = headText.indexOf(':', start);
    if (colon <= start || colon >= lineEnd) continue;
    let nameEnd = colon;
    while (nameEnd > start && (headText.charCodeAt(nameEnd - 1) === 0x20 || headText.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
    const name = fieldName(headText.slice(start, nameEnd));
    if (name === null) continue;
    if (++count > SIP_HEADER_LIMIT) return null;
    const index = SLOT.get(name);
    if (index !== undefined && first[index] === undefined) first[index] = headText.slice(colon + 1, lineEnd).trim();
  }

  const bodyStart = end === null ? -1 : end.body;
  const message = request !== null
    ? new ParsedRequest(request[1]!, request[2]!, bytes, bodyStart, headText, headers)
    : new ParsedResponse(Number(status![1]), (status![2] ?? '').trim(), bytes, bodyStart, headText, headers);
  const cseqMatch = first[CSEQ] === undefined ? null : /^(\d{1,10})\s+(\S+)$/.exec(first[CSEQ]);
  const cseq = cseqMatch === null ? undefined : { seq: Number(cseqMatch[1]), method: cseqMatch[2]! };
  if (message instanceof ParsedResponse && cseq !== undefined) message.method = cseq.method;
  // Only fields with a value are set (exactOptionalPropertyTypes): one check each, no intermediate object.
  const topVia = first[VIA] === undefined ? undefined : parseVia(splitOutside(first[VIA], ',')[0]!.trim());
  if (topVia) message.via = topVia;
  const from = address(first[FROM]);
  if (from !== undefined) message.from = from;
  const to = address(first[TO]);
  if (to !== undefined) message.to = to;
  message.setContactText(first[CONTACT]);
  if (first[CALL_ID] !== undefined) message.callId = first[CALL_ID];
  if (cseq !== undefined) message.cseq = cseq;
  if (first[USER_AGENT] !== undefined) message.userAgent = first[USER_AGENT];
  if (first[SERVER] !== undefined) message.server = first[SERVER];
  const authorization = digest(first[AUTHORIZATION] ?? first[PROXY_AUTHORIZATION]);
  if (authorization !== undefined) message.authorization = authorization;
  const challenge = digest(first[WWW_AUTHENTICATE] ?? first[PROXY_AUTHENTICATE]);
  if (challenge !== undefined) message.wwwAuthenticate = challenge;
  const expires = parseCount(first[EXPIRES]);
  if (expires !== undefined) message.expires = expires;
  const maxForwards = parseCount(first[MAX_FORWARDS]);
  if (maxForwards !== undefined) message.maxForwards = maxForwards;
  const contentLength = parseCount(first[CONTENT_LENGTH]);
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
