import type { SipMessage } from '../../parsers/sip/types.js';

/**
 * Scanner fingerprints from a SIP request alone: the User-Agent (formats reference §5.2) and the shapes the
 * tools leave when the UA was changed (§5.1). A UA is trivially set, so only the high tier may justify a ban
 * on its own; the low tier names UAs that fraud dialers spoof but real devices also send.
 */
export interface ScannerMatch {
  /** The tool, as far as the evidence says: `sipvicious`, `svmap`, `svwar`, `svcrack`, `sippts`, `sipcli`... */
  tool: string;
  /** Why, for the event's `reason`. Never includes a password a tool put in the message. */
  reason: string;
  confidence: 'high' | 'low';
}

/** Lower-cased substring -> tool name. No legitimate device sends these. */
const HIGH_AGENTS: readonly (readonly [string, string])[] = [
  ['friendly-scanner', 'sipvicious'],
  ['sipvicious', 'sipvicious'],
  ['sipcli', 'sipcli'],
  ['vaxsipuseragent', 'vaxsip'],
  ['vaxipuseragent', 'vaxsip'],
  ['pplsip', 'sippts'],
  ['sundayddr', 'sundayddr'],
  ['iwar', 'iwar'],
  ['sip-scan', 'sip-scan'],
  ['sipsak', 'sipsak'],
  ['smap', 'smap'],
  ['sivus', 'sivus'],
  ['siparmyknife', 'siparmyknife'],
  ['friendly-request', 'friendly-request'],
];

/** Spoofed by dialers, sent by real devices too: a risk signal, never a ban by itself. */
const LOW_AGENTS: readonly (readonly [string, string])[] = [
  ['eyebeam release 300', 'eyebeam-spoof'],
  ['portsip voip sdk', 'portsip-sdk'],
  ['zfree', 'zfree'],
  ['z 3.14.38765', 'z-spoof'],
  ['asterisk pbx', 'asterisk-spoof'],
  ['test agent', 'test-agent'],
];

const HEX_TAG = /^(?:[0-9a-f]{2}){6,64}$/i;
const SIPVICIOUS_BRANCH = /^z9hG4bK-\d{1,10}$/;
const DECIMAL_CALL_ID = /^\d{6,30}$/;
const SIPPTS_BRANCH = /^[0-9a-z]{71}$/;
const SIPPTS_CALL_ID = /^[0-9a-f]{32}$/;
const SIPPTS_TAG = /^[0-9a-f]{8}$/;

/**
 * The first match wins, strongest evidence first: the tools' own tag and branch shapes, then the UA lists.
 * `extra` holds operator-configured UA substrings (lower-cased or not), treated as high confidence.
 */
export function scannerFingerprint(message: SipMessage, extra: readonly string[] = []): ScannerMatch | undefined {
  if (message.kind !== 'request') return undefined;
  const shape = toolShape(message);
  if (shape) return shape;
  const ua = message.userAgent;
  if (ua !== undefined && ua !== '') {
    const known = agentTier(ua);
    if (known?.confidence === 'high') return known;
    if (extra.length > 0) {
      const lower = ua.toLowerCase();
      for (const needle of extra) {
        if (needle !== '' && lower.includes(needle.toLowerCase())) {
          return { tool: needle.toLowerCase(), reason: `configured scanner User-Agent "${clip(ua)}"`, confidence: 'high' };
        }
      }
    }
    if (message.from?.display?.toLowerCase() === 'sipvicious') return SVMAP_DISPLAY;
    return known ?? undefined;
  }
  if (message.from?.display?.toLowerCase() === 'sipvicious') return SVMAP_DISPLAY;
  return undefined;
}

const SVMAP_DISPLAY: ScannerMatch = { tool: 'svmap', reason: 'From display name "sipvicious" (svmap default)', confidence: 'high' };

/**
 * The built-in tier of a User-Agent, remembered: a network has few distinct UAs, and each request would
 * otherwise run two dozen substring searches. Bounded; cleared when full (a UA-randomising flood cannot grow it).
 */
const agentCache = new Map<string, ScannerMatch | null>();
const AGENT_CACHE_LIMIT = 4096;

function agentTier(ua: string): ScannerMatch | null {
  const cached = agentCache.get(ua);
  if (cached !== undefined) return cached;
  const lower = ua.toLowerCase();
  let match: ScannerMatch | null = null;
  for (const [needle, tool] of HIGH_AGENTS) {
    if (lower.includes(needle)) {
      match = { tool, reason: `scanner User-Agent "${clip(ua)}"`, confidence: 'high' };
      break;
    }
  }
  if (match === null) {
    for (const [needle, tool] of LOW_AGENTS) {
      if (lower.includes(needle)) {
        match = { tool, reason: `User-Agent often spoofed by dialers "${clip(ua)}"`, confidence: 'low' };
        break;
      }
    }
  }
  if (agentCache.size >= AGENT_CACHE_LIMIT) agentCache.clear();
  agentCache.set(ua, match);
  return match;
}

/** SIPVicious and sippts leave their marks in tags, branches and Call-IDs, whatever UA they claim. */
function toolShape(message: SipMessage): ScannerMatch | undefined {
  const tag = message.from?.tag;
  if (tag !== undefined) {
    const svTool = sipviciousTag(tag);
    if (svTool === 'svcrack') return { tool: 'svcrack', reason: 'svcrack: a user:password guess encoded in the From tag', confidence: 'high' };
    if (svTool !== undefined) return { tool: svTool, reason: `${svTool}: From tag is hex(data 0x01 random), the SIPVicious tag`, confidence: 'high' };
    // svcrack's first REGISTER carries this fixed tag and a fixed Contact.
    if (tag === '3206210844' && message.contact?.uri === 'sip:123@1.1.1.1') {
      return { tool: 'svcrack', reason: 'svcrack: fixed From tag 3206210844 and Contact sip:123@1.1.1.1', confidence: 'high' };
    }
  }
  const branch = message.via?.branch;
  const callId = message.callId;
  if (branch !== undefined && callId !== undefined) {
    if (SIPPTS_BRANCH.test(branch) && SIPPTS_CALL_ID.test(callId) && tag !== undefined && SIPPTS_TAG.test(tag)) {
      return { tool: 'sippts', reason: 'sippts: 71-character branch without the RFC 3261 cookie, 32-hex Call-ID, 8-hex tag', confidence: 'high' };
    }
    if (SIPVICIOUS_BRANCH.test(branch) && DECIMAL_CALL_ID.test(callId) && message.via?.rport === true) {
      return { tool: 'sipvicious', reason: 'SIPVicious-style branch z9hG4bK-<decimal>;rport and a decimal Call-ID', confidence: 'low' };
    }
  }
  return undefined;
}

/**
 * SIPVicious builds tags as hex(data + 0x01 + random decimal). The data says which tool: 12 hex digits of
 * address and port (svmap), an extension (svwar), `user:password` (svcrack). Returns the tool or undefined.
 */
function sipviciousTag(tag: string): string | undefined {
  if (!HEX_TAG.test(tag)) return undefined;
  const bytes = Buffer.from(tag, 'hex');
  const separator = bytes.indexOf(0x01);
  if (separator <= 0 || separator === bytes.length - 1) return undefined;
  for (let i = separator + 1; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte < 0x30 || byte > 0x39) return undefined;
  }
  for (let i = 0; i < separator; i++) {
    const byte = bytes[i]!;
    if (byte < 0x20 || byte > 0x7e) return undefined;
  }
  const data = bytes.subarray(0, separator).toString('latin1');
  if (data.includes(':')) return 'svcrack';
  if (/^[0-9a-f]{12}$/.test(data)) return 'svmap';
  return 'svwar';
}

function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 64)}...` : printable;
}
