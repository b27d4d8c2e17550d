import { listValues, parseCount, readHeaders } from './headers.js';
import { parseAddress, parseDigest, parseVia } from './fields.js';
import { SIP_MESSAGE_LIMIT, type SipAddress, type SipMessage, type SipVia } from './types.js';

export * from './types.js';

const REQUEST_LINE = /^([A-Za-z0-9.!%*_+`'~-]+) +((?:sips?|tel):\S+) +SIP\/2\.0 *$/i;
const STATUS_LINE = /^SIP\/2\.0 +([1-6]\d\d)(?: +(.*))?$/i;

/**
 * Where the header section ends in `bytes`: the index of the blank line and the index where the body starts.
 * Bare LF line ends are accepted, as lenient servers do. Null when no blank line is there yet.
 */
export function findHeaderEnd(bytes: Buffer, from = 0): { head: number; body: number } | null {
  for (let i = from; i < bytes.length; i += 1) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return { head: i, body: i + 2 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { head: i, body: i + 3 };
  }
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

function parseBytes(bytes: Buffer): SipMessage | null {
  const end = findHeaderEnd(bytes);
  const headText = bytes.subarray(0, end === null ? bytes.length : end.head).toString('utf8');
  const lines = headText.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const startLine = lines[0] ?? '';
  const request = REQUEST_LINE.exec(startLine);
  const status = request === null ? STATUS_LINE.exec(startLine) : null;
  if (request === null && status === null) return null;
  const headers = readHeaders(lines.slice(1));
  if (headers === null) return null;

  const first = (name: string): string | undefined => headers.get(name)?.[0];
  const contentLength = parseCount(first('content-length'));
  const bodyBytes = end === null ? Buffer.alloc(0) : bytes.subarray(end.body);
  const body = (contentLength === undefined ? bodyBytes : bodyBytes.subarray(0, contentLength)).toString('utf8');
  const contacts = listValues(headers.get('contact')).map(parseAddress).filter((a): a is SipAddress => a !== null);
  const cseqMatch = /^(\d{1,10})\s+(\S+)$/.exec(first('cseq') ?? '');
  const cseq = cseqMatch === null ? undefined : { seq: Number(cseqMatch[1]), method: cseqMatch[2]! };

  const base = {
    headers,
    vias: listValues(headers.get('via')).map(parseVia).filter((v): v is SipVia => v !== null),
    contacts,
    body,
  };
  const optional = {
    from: address(first('from')),
    to: address(first('to')),
    contact: contacts[0],
    callId: first('call-id'),
    cseq,
    userAgent: first('user-agent'),
    server: first('server'),
    authorization: digest(first('authorization') ?? first('proxy-authorization')),
    wwwAuthenticate: digest(first('www-authenticate') ?? first('proxy-authenticate')),
    expires: parseCount(first('expires')),
    maxForwards: parseCount(first('max-forwards')),
    contentLength,
  };
  const message: SipMessage = request !== null
    ? { kind: 'request', method: request[1]!, requestUri: request[2]!, ...base }
    : { kind: 'response', status: Number(status![1]), reason: (status![2] ?? '').trim(), ...base };
  if (message.kind === 'response' && cseq !== undefined) message.method = cseq.method;
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(message, { [key]: value });
  }
  return message;
}

function address(value: string | undefined): SipAddress | undefined {
  return value === undefined ? undefined : parseAddress(value) ?? undefined;
}

function digest(value: string | undefined): ReturnType<typeof parseDigest> | undefined {
  return value === undefined ? undefined : parseDigest(value) ?? undefined;
}
