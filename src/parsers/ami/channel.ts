import type { Disposition } from '../../core/event.js';

/**
 * What an Asterisk channel event says about who placed a call and where to, read only from what the server
 * writes: the channel name, the dialplan extension, the Dial argument. CallerIDNum/CallerIDName are the
 * caller's own claim (a phone sets them in From) and are never read.
 */

/**
 * `PJSIP/1001-00000012` → `1001`: technology, endpoint, a hex sequence. The same rule as the CDR parser's
 * (asterisk-cdr `CHANNEL`; a test holds the two together), so a live call and its CDR land on one account.
 * `Local/...;2` and other technologies name no endpoint.
 */
const CHANNEL = /^(?:PJSIP|SIP|IAX2|DAHDI|WebRTC)\/([^\s/@-][^\s/@]*?)-[0-9a-f]{1,16}$/i;

export const ACCOUNT_LIMIT = 128;
export const CHANNEL_LIMIT = 128;
export const UNIQUE_ID_LIMIT = 128;
/** Longer than any E.164 number with an outside-line and an international prefix. */
export const DESTINATION_LIMIT = 64;

export function endpointOf(channel: string): string | undefined {
  return CHANNEL.exec(channel)?.[1]?.slice(0, ACCOUNT_LIMIT);
}

/** A dialled number: digits with an optional leading `+`, and the `*`/`#` of feature codes. */
const NUMBER = new RegExp(`^\\+?[0-9*#]{1,${DESTINATION_LIMIT - 1}}$`);

/** The dialplan extension when it is a number (not `s`, `h` or a named extension a Gosub runs in). */
export function numberOf(exten: string | undefined): string | undefined {
  return exten !== undefined && NUMBER.test(exten) ? exten : undefined;
}

/**
 * The number in a Dial argument: DialBegin's DialString is the resource without its technology
 * (`0097259123456@trunk`, `trunk/0097259123456`, `trunk/sip:0097259123456@host`), CEL's AppData the whole
 * argument (`PJSIP/0097259123456@trunk,60,tT`). Only the first of `&`-joined targets is read.
 */
export function numberInDialString(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const target = text.slice(0, 512).split(/[,&]/, 1)[0] ?? '';
  for (const part of target.split(/[/@;]/)) {
    const number = numberOf(part.replace(/^(?:sips?|tel):/i, ''));
    if (number !== undefined) return number;
  }
  return undefined;
}

/** `AST_STATE_UP` in the `ChannelState` of a channel snapshot (include/asterisk/channelstate.h). */
export const STATE_UP = '6';

/**
 * How a caller's channel ended, from its Q.850 cause (include/asterisk/causes.h), read the way Asterisk's own
 * `ast_hangup_cause_to_dial_status` reads it; a normal clearing is `answered` only if the channel was up.
 * Undefined when nothing tells.
 */
export function dispositionOf(cause: string | undefined, up: boolean | undefined): Disposition | undefined {
  switch (cause) {
    case '17': return 'busy';
    case '34': return 'congestion';
    case '3': case '20': return 'failed';
    case '18': case '19': return 'no-answer';
  }
  if (up === undefined) return undefined;
  return up ? 'answered' : 'no-answer';
}

/** Dial's DIALSTATUS (apps/app_dial.c) as a disposition; CHANUNAVAIL is a CDR's FAILED. */
export function dispositionOfDialStatus(status: string | undefined): Disposition | undefined {
  switch (status) {
    case 'ANSWER': return 'answered';
    case 'BUSY': return 'busy';
    case 'NOANSWER': return 'no-answer';
    case 'CANCEL': return 'cancel';
    case 'CONGESTION': return 'congestion';
    case 'CHANUNAVAIL': return 'failed';
    default: return undefined;
  }
}
