import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * A synthetic Asterisk `full` log: ~80% ordinary lines (dialplan, registrations, RTP, debug) and ~20% attack
 * lines of every kind the parser knows, from about 50k addresses (IPv4 and IPv6), injection attempts included.
 * Deterministic (seeded), so runs compare.
 */

let seed = 0x5eed;
function rand(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

function address(i: number): string {
  if (i % 5 === 4) return `[2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}::${(i % 97) + 1}]`;
  return `${11 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.${(i % 200) + 1}`;
}
const bare = (a: string): string => a.replace(/^\[|\]$/g, '');

const pad = (n: number): string => String(n).padStart(2, '0');
function stamp(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const NOISE: ((n: number) => string)[] = [
  (n) => `VERBOSE[${n}][C-0000${(n % 9000) + 1000}] pbx.c: Executing [${2000 + (n % 50)}@from-internal:1] Dial("SIP/10${n % 90}-0000a1b2", "SIP/trunk/0049301234${n % 1000}") in new stack`,
  (n) => `VERBOSE[${n}] chan_sip.c: Registered SIP '10${n % 90}' at 10.${n % 200}.1.${(n % 250) + 1}:5060`,
  (n) => `VERBOSE[${n}] res_pjsip_registrar.c: Added contact 'sip:20${n % 90}@10.1.${n % 200}.5:5060;ob' to AOR '20${n % 90}' with expiration of 300 seconds`,
  (n) => `DEBUG[${n}] res_rtp_asterisk.c: Setting RTP Jitterbuffer on channel PJSIP/20${n % 90}-0000${n % 9999}`,
  (n) => `WARNING[${n}][C-0000${n % 9000}] chan_sip.c: Retransmission timeout reached on transmission ${n}@10.0.0.1 for seqno 102 (Critical Request)`,
  (n) => `NOTICE[${n}] chan_sip.c: Peer 'trunk' is now Reachable. (${n % 90}ms / 2000ms)`,
  (n) => `VERBOSE[${n}][C-0000${n % 9000}] app_dial.c: SIP/trunk-0000${n % 999} answered SIP/10${n % 90}-0000a1b2`,
  (n) => `VERBOSE[${n}] manager.c: Manager 'admin' logged on from 127.0.0.1`,
];

type Attack = (a: string, n: number) => string;
const ATTACKS: Attack[] = [
  (a, n) => `NOTICE[${n}] chan_sip.c: Registration from '<sip:${100 + (n % 900)}@192.0.2.1>' failed for '${a}:5060' - Wrong password`,
  (a, n) => `NOTICE[${n}] chan_sip.c: Registration from '"${n % 900}" <sip:${n % 900}@192.0.2.1>' failed for '${a}:5062' - No matching peer found`,
  (a, n) => `NOTICE[${n}] chan_sip.c: Registration from '<sip:${n % 900}@192.0.2.1>' failed for '${a}:5060' - Username/auth name mismatch`,
  (a, n) => `NOTICE[${n}] chan_sip.c: Registration from '<sip:${n % 900}@192.0.2.1>' failed for '${a}:5060' - Device does not match ACL`,
  (a, n) => `NOTICE[${n}] chan_sip.c: Registration from '<sip:${n % 900}@example.net>' failed for '${a}:5060' - Not a local domain`,
  (a, n) => `NOTICE[${n}][C-0000${n % 9000}] chan_sip.c: Call from '' (${a}:5070) to extension '00972599${n % 100000}' rejected because extension not found in context 'default'.`,
  (a, n) => `NOTICE[${n}] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:${n % 900}@192.0.2.1>' failed for '${a}:5061' (callid: ${n}) - No matching endpoint found`,
  (a, n) => `NOTICE[${n}] res_pjsip/pjsip_distributor.c: Request 'INVITE' from '"${n % 900}" <sip:${n % 900}@192.0.2.1>' failed for '${a}:5061' (callid: a${n}b) - Failed to authenticate`,
  (a, n) => `NOTICE[${n}] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:${n % 900}@192.0.2.1>' failed for '${a}:5061' (callid: ${n}) - Not match Endpoint ACL`,
  (a, n) => `NOTICE[${n}] res_pjsip/pjsip_distributor.c: Request 'OPTIONS' from '<sip:${n % 900}@192.0.2.1>' failed for '${a}:5061' (callid: ${n}) - No matching endpoint found after 5 tries in 2.500 ms`,
  (a, n) => `NOTICE[${n}] res_pjsip_session.c:  anonymous: Call (UDP:${a}:5080) to extension '011441234${n % 10000}' rejected because extension not found in context 'from-external'.`,
  (a, n) => `NOTICE[${n}] manager.c: ${bare(a)} failed to authenticate as 'admin'`,
  (a, n) => `NOTICE[${n}] manager.c: ${bare(a)} tried to authenticate with nonexistent user 'root${n % 9}'`,
  (a, n) => `NOTICE[${n}] chan_iax2.c: Host ${bare(a)} failed to authenticate as ${n % 900}`,
  (a, n) => `WARNING[${n}][C-0000${n % 9000}] Ext. s: "Rejecting unknown SIP connection from ${a}:5060"`,
  (a, n) => `WARNING[${n}][C-0000${n % 9000}] Ext. _.: Friendly Scanner from ${bare(a)}`,
  (a, n) => `SECURITY[${n}] res_security_log.c: SecurityEvent="InvalidAccountID",EventTV="2026-11-20T10:00:00.000+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="${n % 900}",SessionID="${n}",LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="${a.startsWith('[') ? `IPV6/UDP/${bare(a)}` : `IPV4/UDP/${a}`}/5060"`,
  (a, n) => `SECURITY[${n}] res_security_log.c: SecurityEvent="ChallengeResponseFailed",EventTV="2026-11-20T10:00:00.000+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="<unknown>",SessionID="${n}",LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="${a.startsWith('[') ? `IPV6/UDP/${bare(a)}` : `IPV4/UDP/${a}`}/5060",Challenge="1/abc",Response="def",ExpectedResponse=""`,
  // Injection: an address in the To header that must never be attributed.
  (a, n) => `NOTICE[${n}] chan_sip.c: Registration from '<sip:x@192.0.2.1>' failed for '198.18.0.${n % 250}:5060' - Wrong password' failed for '${a}:5060' - Wrong password`,
];

export async function generateAsteriskLog(path: string, lines = 1_000_000, addresses = 50_000): Promise<void> {
  seed = 0x5eed;
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const start = Date.UTC(2026, 10, 20, 0, 0, 0);
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const t = start + Math.floor((i * 86_400_000) / lines);
    const n = 1000 + Math.floor(rand() * 30000);
    const text = rand() < 0.2 ? pick(ATTACKS)(address(Math.floor(rand() * addresses)), n) : pick(NOISE)(n);
    chunk += `[${stamp(t)}] ${text}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}
