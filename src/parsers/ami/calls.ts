import { boundRaw, type CallFacts, type EventKind, type SecurityEvent } from '../../core/event.js';
import { parseTimestamp } from '../../core/time.js';
import type { AmiMessage } from '../../sources/ami/decoder.js';
import { formatAmiMessage } from '../../sources/ami/decoder.js';
import type { ParseContext } from '../types.js';
import { NO_EVENTS } from '../types.js';
import {
  CHANNEL_LIMIT, DESTINATION_LIMIT, dispositionOf, dispositionOfDialStatus, endpointOf, numberInDialString, numberOf,
  STATE_UP, UNIQUE_ID_LIMIT,
} from './channel.js';

/**
 * Live calls from AMI channel events (class `call`), so the fraud detector sees a call while it is up; a CDR
 * comes only at hangup. Two equivalent feeds, from main/manager_channels.c and cel/cel_manager.c:
 *
 * | call-start  | `DialBegin` (caller's fields, then `Dest*`, `DialString`) | CEL `APP_START`, Application `Dial` |
 * | call-answer | `DialEnd` with `DialStatus: ANSWER`                       | CEL `ANSWER` or `BRIDGE_ENTER` in Dial |
 * | call-end    | `Hangup` (`Cause`, `Cause-txt`)                           | CEL `HANGUP` (Extra: hangupcause, dialstatus) |
 *
 * Only a call an endpoint placed counts: its channel names an endpoint (the account) and is the first
 * channel of the call (Uniqueid = Linkedid; a channel Asterisk creates for a Dial inherits the caller's
 * Linkedid). That leaves out the legs Asterisk dialled (a trunk's leg, a called phone: a phone receiving a
 * call is not placing one) and Local channel halves. All three kinds carry the caller's Uniqueid, which is
 * also the CDR's UniqueID, so the detector pairs them. No `ip`: these events carry no address.
 *
 * The AMI user needs `read = call` and the login `Events: call` (with security and cdr as wanted); CEL also
 * needs cel.conf `enable=yes`, `apps=dial` and the events above. Without manager.conf `timestampevents = yes`
 * the channel events carry no time and get the time they were read (ctx.referenceTime).
 *
 * Not mapped: `Newstate` Up (the caller is up as soon as the dialplan runs Answer(), long before anyone
 * answers a Dial) and CEL `CHAN_START` (a channel exists, nothing is dialled yet).
 */

export const CALL_PATTERNS: readonly string[] = [
  'ami-dial-begin', 'ami-dial-answer', 'ami-hangup', 'ami-cel-dial', 'ami-cel-answer', 'ami-cel-hangup',
];

/** The AMI events this module reads. */
export const CALL_EVENTS: ReadonlySet<string> = new Set(['DialBegin', 'DialEnd', 'Hangup', 'CEL']);

export function valuesOf(message: AmiMessage, key: string): string[] {
  const wanted = key.toLowerCase();
  return message.fields.filter(([name]) => name.toLowerCase() === wanted).map(([, value]) => value);
}

interface Caller {
  account: string;
  channel: string;
  uniqueId: string;
}

/**
 * The calling endpoint's channel, or undefined. A frame that repeats Channel, Uniqueid or Linkedid is
 * read as no one's: Asterisk writes each once, and guessing which one is true could bill the wrong account.
 * In DialBegin/DialEnd the dialled side's fields are `DestChannel`, ...; a dial with no caller (an
 * Originate) has no `Channel` at all.
 */
function callerOf(message: AmiMessage): Caller | undefined {
  const [channels, uniqueIds, linkedIds] = [valuesOf(message, 'Channel'), valuesOf(message, 'Uniqueid'), valuesOf(message, 'Linkedid')];
  if (channels.length !== 1 || uniqueIds.length !== 1 || linkedIds.length !== 1) return undefined;
  const [channel, uniqueId] = [channels[0] as string, uniqueIds[0] as string];
  if (uniqueId === '' || uniqueId !== linkedIds[0]) return undefined;
  const account = endpointOf(channel);
  return account === undefined ? undefined : { account, channel: channel.slice(0, CHANNEL_LIMIT), uniqueId: uniqueId.slice(0, UNIQUE_ID_LIMIT) };
}

/** `Timestamp: 1704110400.123456`, written only with manager.conf `timestampevents = yes`. */
function amiTime(message: AmiMessage, ctx: ParseContext): number {
  const m = /^(\d{1,11})(?:\.(\d{1,6}))?$/.exec(message.get('Timestamp') ?? '');
  if (!m) return ctx.referenceTime;
  return Number(m[1]) * 1000 + Math.floor(Number((m[2] ?? '0').padEnd(6, '0')) / 1000);
}

interface Fields {
  kind: EventKind;
  pattern: string;
  at: number;
  destination?: string | undefined;
  reason?: string | undefined;
  call?: Partial<CallFacts>;
}

function callEvent(message: AmiMessage, caller: Caller, f: Fields): readonly SecurityEvent[] {
  const event: SecurityEvent = {
    at: f.at,
    kind: f.kind,
    server: 'asterisk',
    account: caller.account,
    // Asterisk placed this call for an endpoint it had accepted: nothing here rests on a forgeable address.
    evidence: 'verified',
    pattern: f.pattern,
    raw: boundRaw(formatAmiMessage(message)),
    call: { ...f.call, uniqueId: caller.uniqueId, channel: caller.channel },
  };
  if (f.destination !== undefined) event.destination = f.destination.slice(0, DESTINATION_LIMIT);
  if (f.reason) event.reason = f.reason.slice(0, 128);
  return [event];
}

/**
 * The dialled number as the caller's dialplan has it (`Exten`, the CDR's `dst`), else the number in the
 * Dial argument when the Dial runs in a Gosub or macro whose extension is `s`.
 */
function destinationOf(message: AmiMessage, dialArgument: string): string | undefined {
  return numberOf(message.get('Exten')) ?? numberInDialString(message.get(dialArgument));
}

/** Call events of one `DialBegin`, `DialEnd`, `Hangup` or `CEL` message. Pure; never throws. */
export function callFromAmi(name: string, message: AmiMessage, ctx: ParseContext): readonly SecurityEvent[] {
  const caller = callerOf(message);
  if (caller === undefined) return NO_EVENTS;
  switch (name) {
    case 'DialBegin':
      return callEvent(message, caller, { kind: 'call-start', pattern: 'ami-dial-begin', at: amiTime(message, ctx), destination: destinationOf(message, 'DialString') });
    case 'DialEnd':
      if (message.get('DialStatus') !== 'ANSWER') return NO_EVENTS;
      return callEvent(message, caller, { kind: 'call-answer', pattern: 'ami-dial-answer', at: amiTime(message, ctx), reason: 'ANSWER' });
    case 'Hangup': {
      const up = message.get('ChannelState');
      const disposition = dispositionOf(message.get('Cause'), up === undefined ? undefined : up === STATE_UP);
      return callEvent(message, caller, {
        kind: 'call-end', pattern: 'ami-hangup', at: amiTime(message, ctx), reason: message.get('Cause-txt'),
        call: disposition === undefined ? {} : { disposition },
      });
    }
    case 'CEL':
      return celEvent(message, caller, ctx);
    default:
      return NO_EVENTS;
  }
}

function celEvent(message: AmiMessage, caller: Caller, ctx: ParseContext): readonly SecurityEvent[] {
  const eventTime = message.get('EventTime');
  const at = (eventTime === undefined ? null : parseTimestamp(eventTime, ctx)) ?? amiTime(message, ctx);
  const inDial = message.get('Application') === 'Dial';
  switch (message.get('EventName')) {
    case 'APP_START':
      if (!inDial) return NO_EVENTS;
      return callEvent(message, caller, { kind: 'call-start', pattern: 'ami-cel-dial', at, destination: destinationOf(message, 'AppData') });
    // The caller is answered by Dial when the dialled side answers, or joins the bridge then if the dialplan
    // answered it earlier; the detector keeps the first answer of a call.
    case 'ANSWER':
    case 'BRIDGE_ENTER':
      if (!inDial) return NO_EVENTS;
      return callEvent(message, caller, { kind: 'call-answer', pattern: 'ami-cel-answer', at });
    case 'HANGUP': {
      const extra = celExtra(message.get('Extra'));
      const dialStatus = typeof extra.dialstatus === 'string' ? extra.dialstatus : undefined;
      const cause = typeof extra.hangupcause === 'number' ? String(extra.hangupcause) : undefined;
      const disposition = dispositionOfDialStatus(dialStatus) ?? dispositionOf(cause, undefined);
      return callEvent(message, caller, {
        kind: 'call-end', pattern: 'ami-cel-hangup', at, reason: dialStatus || undefined,
        call: disposition === undefined ? {} : { disposition },
      });
    }
    default:
      return NO_EVENTS;
  }
}

/** CEL HANGUP's Extra: `{"hangupcause":16,"hangupsource":"...","dialstatus":"ANSWER"}` (main/cel.c). */
function celExtra(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.length > 4096) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
