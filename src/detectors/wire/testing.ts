import type { Transport } from '../../core/event.js';
import { parseSipMessage } from '../../parsers/sip/message.js';
import type { WireOptions, WirePacket } from './types.js';

/** Builders for wire-detector tests and the benchmark: SIP text shaped like real UAs and servers. */

export const SERVER = '192.0.2.10';

export const WIRE_DEFAULTS: WireOptions = { floodRate: 50, cooldownMs: 10_000, scanners: [], challengeTimeoutMs: 8000, servers: [] };

export interface RequestSpec {
  method: string;
  user: string;
  ip: string;
  port?: number;
  callId: string;
  seq?: number;
  branch?: string;
  userAgent?: string;
  /** Digest credentials: username and the nonce being answered. */
  auth?: { username: string; nonce: string };
  /** Request-URI user (INVITE destination); default the user. */
  target?: string;
  transport?: 'UDP' | 'TCP';
}

export function requestText(spec: RequestSpec): string {
  const port = spec.port ?? 5060;
  const target = spec.target ?? spec.user;
  const uri = spec.method === 'REGISTER' ? `sip:${SERVER}` : `sip:${target}@${SERVER}`;
  const lines = [
    `${spec.method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/${spec.transport ?? 'UDP'} ${spec.ip}:${port};branch=${spec.branch ?? `z9hG4bK${spec.callId}${spec.seq ?? 1}`};rport`,
    'Max-Forwards: 70',
    `From: <sip:${spec.user}@${SERVER}>;tag=f${spec.callId}`,
    `To: <sip:${spec.method === 'REGISTER' ? spec.user : target}@${SERVER}>`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.seq ?? 1} ${spec.method}`,
    `Contact: <sip:${spec.user}@${spec.ip}:${port}>`,
  ];
  if (spec.userAgent) lines.push(`User-Agent: ${spec.userAgent}`);
  if (spec.auth) {
    lines.push(`Authorization: Digest username="${spec.auth.username}",realm="${SERVER}",nonce="${spec.auth.nonce}",uri="${uri}",response="0123456789abcdef0123456789abcdef",algorithm=MD5`);
  }
  lines.push('Content-Length: 0', '', '');
  return lines.join('\r\n');
}

/** The server's final answer to a request built by requestText (same Via, Call-ID, CSeq). */
export function responseText(spec: RequestSpec, status: number, reason: string, extra: string[] = []): string {
  const port = spec.port ?? 5060;
  const target = spec.target ?? spec.user;
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    `Via: SIP/2.0/${spec.transport ?? 'UDP'} ${spec.ip}:${port};branch=${spec.branch ?? `z9hG4bK${spec.callId}${spec.seq ?? 1}`};rport=${port};received=${spec.ip}`,
    `From: <sip:${spec.user}@${SERVER}>;tag=f${spec.callId}`,
    `To: <sip:${spec.method === 'REGISTER' ? spec.user : target}@${SERVER}>;tag=srv${status}`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.seq ?? 1} ${spec.method}`,
    'Server: kamailio (5.6.3 (x86_64/linux))',
    ...extra,
    'Content-Length: 0', '', '',
  ];
  return lines.join('\r\n');
}

export function challengeHeader(nonce: string, stale = false): string {
  return `WWW-Authenticate: Digest realm="${SERVER}", nonce="${nonce}"${stale ? ', stale=true' : ''}`;
}

function transportOf(spec: RequestSpec): Transport {
  return spec.transport === 'TCP' ? 'tcp' : 'udp';
}

/** The request as a packet from its client to the server. */
export function requestPacket(spec: RequestSpec, at: number): WirePacket {
  const raw = requestText(spec);
  const message = parseSipMessage(raw);
  if (message === null) throw new Error(`test request does not parse:\n${raw}`);
  return { at, srcIp: spec.ip, srcPort: spec.port ?? 5060, dstIp: SERVER, dstPort: 5060, transport: transportOf(spec), message, raw };
}

/** The response as a packet from the server back to the client. */
export function responsePacket(spec: RequestSpec, at: number, status: number, reason: string, extra: string[] = []): WirePacket {
  const raw = responseText(spec, status, reason, extra);
  const message = parseSipMessage(raw);
  if (message === null) throw new Error(`test response does not parse:\n${raw}`);
  return { at, srcIp: SERVER, srcPort: 5060, dstIp: spec.ip, dstPort: spec.port ?? 5060, transport: transportOf(spec), message, raw };
}
