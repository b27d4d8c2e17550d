import type { EventKind, SecurityEvent } from '../../core/event.js';
import { normalizeIp } from '../../core/ip.js';
import { hangupDisposition } from '../freeswitch-cdr/index.js';

/**
 * FreeSWITCH channel events (`events: [CHANNEL_CREATE, CHANNEL_ANSWER, CHANNEL_HANGUP_COMPLETE]`) as the calls
 * the toll-fraud detector counts. The headers come from switch_channel_event_set_basic_data/_extended_data
 * (switch_channel.c: every channel variable as `variable_<name>`) and the caller profile (switch_caller.c, prefix `Caller-`);
 * sofia sets the variables in sofia_handle_sip_i_invite (sofia.c) before the channel reaches CS_INIT, where
 * CHANNEL_CREATE fires (switch_core_state_machine.c). The decisions:
 *
 * - Only a sofia leg the switch received counts: `Call-Direction: inbound` (the caller's A-leg) and
 *   `Caller-Source: mod_sofia` (the module that built the caller profile). Outbound legs (to a gateway or a
 *   phone, which also fire CHANNEL_ORIGINATE) and loopback legs copy the A-leg's variables, so counting them
 *   would count each call twice, with the gateway's reply address as `ip`.
 * - The account is `variable_sip_auth_username`: sofia puts it on the channel only after the digest response
 *   matched a directory user (sofia_reg_parse_auth). `Caller-Username`, `Caller-Caller-ID-Number` and the
 *   channel name are the From user (or X-FS-Channel-Name) the caller wrote, and are never the account. A call
 *   without one was not digest-authenticated and is `spoofable`: one UDP INVITE creates the channel.
 * - The address is `variable_sip_network_ip`, which sofia copies from the transport source of the INVITE. A leg
 *   without a valid one still yields its event, without `ip`.
 * - CHANNEL_HANGUP_COMPLETE is the `call-end`: `variable_duration`, `variable_billsec`, and the disposition
 *   from `Hangup-Cause` and whether `variable_answer_epoch` is set (freeswitch-cdr hangupDisposition).
 */

export const ESL_CALL_PATTERNS = ['esl-call-start', 'esl-call-answer', 'esl-call-end'] as const;

const CALL_EVENTS: Record<string, { kind: EventKind; pattern: (typeof ESL_CALL_PATTERNS)[number] }> = {
  CHANNEL_CREATE: { kind: 'call-start', pattern: 'esl-call-start' },
  CHANNEL_ANSWER: { kind: 'call-answer', pattern: 'esl-call-answer' },
  CHANNEL_HANGUP_COMPLETE: { kind: 'call-end', pattern: 'esl-call-end' },
};

/** Headers put first in `raw` for a call event: a channel event has hundreds of variables. */
export const CALL_RAW_FIRST = [
  'Event-Name', 'Unique-ID', 'Call-Direction', 'Caller-Source', 'Channel-Name', 'Caller-Destination-Number',
  'variable_sip_auth_username', 'variable_sip_auth_realm', 'variable_sip_network_ip', 'variable_sip_network_port',
  'Hangup-Cause', 'variable_duration', 'variable_billsec', 'variable_answer_epoch', 'Event-Date-Timestamp',
];

const MAX_FIELD = 128;

function text(event: Map<string, string>, name: string): string | undefined {
  const value = event.get(name);
  return value === undefined || value === '' ? undefined : value.slice(0, MAX_FIELD);
}

function seconds(event: Map<string, string>, name: string): number | undefined {
  const value = event.get(name);
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

function port(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 && n <= 65535 ? n : undefined;
}

/** The call event of one channel event, without `at` and `raw`; null for any other event or leg. */
export function callEvent(event: Map<string, string>): Omit<SecurityEvent, 'at' | 'raw'> | null {
  const found = CALL_EVENTS[event.get('Event-Name') ?? ''];
  if (!found) return null;
  if (event.get('Call-Direction') !== 'inbound' || event.get('Caller-Source') !== 'mod_sofia') return null;
  const account = text(event, 'variable_sip_auth_username');
  const result: Omit<SecurityEvent, 'at' | 'raw'> = {
    kind: found.kind,
    server: 'freeswitch',
    evidence: account !== undefined ? 'verified' : 'spoofable',
    pattern: found.pattern,
    call: {},
  };
  const ip = normalizeIp(event.get('variable_sip_network_ip') ?? '');
  if (ip) {
    result.ip = ip;
    const networkPort = port(event.get('variable_sip_network_port'));
    if (networkPort !== undefined) result.port = networkPort;
  }
  const domain = text(event, 'variable_sip_auth_realm');
  const destination = text(event, 'Caller-Destination-Number');
  const userAgent = text(event, 'variable_sip_user_agent');
  const callId = text(event, 'variable_sip_call_id');
  if (account !== undefined) result.account = account;
  if (account !== undefined && domain !== undefined) result.domain = domain;
  if (destination !== undefined) result.destination = destination;
  if (userAgent !== undefined) result.userAgent = userAgent;
  if (callId !== undefined) result.callId = callId;
  const call = result.call!;
  const uniqueId = text(event, 'Unique-ID');
  const channel = text(event, 'Channel-Name');
  if (uniqueId !== undefined) call.uniqueId = uniqueId;
  if (channel !== undefined) call.channel = channel;
  if (found.kind === 'call-end') {
    const cause = event.get('Hangup-Cause') ?? '';
    const answerEpoch = event.get('variable_answer_epoch');
    const disposition = hangupDisposition(cause, answerEpoch !== undefined && /^[1-9]\d{0,15}$/.test(answerEpoch));
    if (disposition !== null) {
      call.disposition = disposition;
      result.reason = cause;
    }
    const durationSec = seconds(event, 'variable_duration');
    const billSec = seconds(event, 'variable_billsec');
    if (durationSec !== undefined) call.durationSec = durationSec;
    if (billSec !== undefined && (durationSec === undefined || billSec <= durationSec)) call.billSec = billSec;
  }
  return result;
}
