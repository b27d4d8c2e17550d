import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityEvent } from '../../core/event.js';
import { createParser } from '../../parsers/index.js';
import type { ParseContext } from '../../parsers/types.js';
import { parseSyslog, type SyslogMessage } from './message.js';
import { lineFor, routeFormat, type SyslogRoute } from './route.js';

const ctx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2021, 11, 31) };

function received(text: string): SyslogMessage {
  const message = parseSyslog(text);
  assert.ok(message, text);
  return message;
}

/** What a fresh parser of the format makes of a line (fresh: the tamper guard carries state between lines). */
function parse(format: string, line: string, at = ctx): readonly SecurityEvent[] {
  return createParser(format).parse(line, at);
}

/** The events of a syslog message routed to `format`, as the listener will produce them. */
function viaSyslog(format: string, text: string, at = ctx): readonly SecurityEvent[] {
  return parse(format, lineFor(received(text), format), at);
}

function withoutRaw(events: readonly SecurityEvent[]): Omit<SecurityEvent, 'raw'>[] {
  return events.map(({ raw: _raw, ...rest }) => rest);
}

describe('routeFormat', () => {
  const routes: SyslogRoute[] = [
    { app: 'kamailio', host: 'edge1', format: 'opensips' },
    { app: 'kamailio', format: 'kamailio' },
    { app: 'asterisk', format: 'asterisk' },
    { host: 'FS1.example.com', format: 'freeswitch' },
  ];

  it('matches the program by the basename of its path', () => {
    assert.equal(routeFormat(received('<28>Jan  1 12:00:00 sip1 /usr/sbin/kamailio[1]: x'), routes), 'kamailio');
    assert.equal(routeFormat(received('<28>Jan  1 12:00:00 sip1 kamailio[1]: x'), routes), 'kamailio');
    assert.equal(routeFormat(received('<28>1 - pbx asterisk 7 - - x'), routes), 'asterisk');
  });

  it('takes the first route whose app and host both match', () => {
    assert.equal(routeFormat(received('<28>Jan  1 12:00:00 edge1 kamailio[1]: x'), routes), 'opensips');
  });

  it('matches the host without regard to case, whatever the program', () => {
    assert.equal(routeFormat(received('<28>Jan  1 12:00:00 fs1.example.com freeswitch[1]: x'), routes), 'freeswitch');
    assert.equal(routeFormat(received('<28>Jan  1 12:00:00 fs1.example.com cron[1]: x'), routes), 'freeswitch');
  });

  it('returns null when no route matches, or the message lacks what the route names', () => {
    assert.equal(routeFormat(received('<28>Jan  1 12:00:00 sip1 kamailio-ish[1]: x'), routes), null);
    assert.equal(routeFormat(received('<28>no header at all'), routes), null);
    assert.equal(routeFormat(received('<28>Jan  1 12:00:00 sip1 kamailio[1]: x'), []), null);
  });

  it('lets a route without app or host catch the rest', () => {
    assert.equal(routeFormat(received('<28>no header at all'), [...routes, { format: 'asterisk' }]), 'asterisk');
  });
});

describe('lineFor', () => {
  it('writes the syslog file form, with placeholders where the message has no host or numeric pid', () => {
    assert.equal(lineFor(received('<28>Jan  1 12:00:00 sip1 /usr/sbin/kamailio[1234]: WARNING: x'), 'kamailio'),
      'Jan  1 12:00:00 sip1 /usr/sbin/kamailio[1234]: WARNING: x');
    assert.equal(lineFor(received('<28>1 2021-06-01T08:00:00Z - kamailio abc - - WARNING: x'), 'kamailio'),
      '2021-06-01T08:00:00Z localhost kamailio[0]: WARNING: x');
  });

  it('writes the format name where the app would move the prefix, and `freeswitch` for FreeSWITCH', () => {
    assert.equal(lineFor(received('<28>1 2021-06-01T08:00:00Z h a:b 1 - - m'), 'asterisk'), '2021-06-01T08:00:00Z h asterisk[1]: m');
    assert.equal(lineFor(received('<28>1 2021-06-01T08:00:00Z h fs 1 - - m'), 'freeswitch'), '2021-06-01T08:00:00Z h freeswitch[1]: m');
  });

  it('passes a dateless message as it is, except Kamailio, which gets its stderr form', () => {
    assert.equal(lineFor(received('<28>asterisk[5]: NOTICE[1]: x'), 'asterisk'), 'NOTICE[1]: x');
    assert.equal(lineFor(received('<28>kamailio[5]: WARNING: x'), 'kamailio'), ' 0(5) WARNING: x');
  });
});

describe('end to end: syslog messages through the real parsers give the file-form events', () => {
  const PIKE = 'WARNING: pike [pike_funcs.c:135]: pike_check_ipaddr(): PIKE - BLOCKing ip 198.51.100.7, node=0x7f68eac03498';
  const AUTH =
    'WARNING: <script>: sipwarden: auth-failed src=192.0.2.10 port=5060 proto=udp rc=-2 method=REGISTER user=[100] ' +
    'realm=[pbx.example.com] ua=[friendly-scanner]';

  it('a Kamailio pike BLOCK from /usr/sbin/kamailio (as kamailio.samples.log has it in file form)', () => {
    const file = `Jan  1 12:00:00 sip1 /usr/sbin/kamailio[1234]: ${PIKE}`;
    const events = viaSyslog('kamailio', `<28>Jan  1 12:00:00 sip1 /usr/sbin/kamailio[1234]: ${PIKE}\n`);
    assert.deepEqual(events, parse('kamailio', file));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.kind, 'flood');
    assert.equal(events[0]?.ip, '198.51.100.7');
    assert.equal(events[0]?.at, Date.UTC(2022, 0, 1, 12));
  });

  it('a Kamailio pike BLOCK as RFC 5424 with structured data', () => {
    const events = viaSyslog('kamailio', `<28>1 2021-06-01T08:00:00.123456+00:00 sip1 kamailio 1234 - [o@1 x="\\"]"] ${PIKE}`);
    assert.deepEqual(events, parse('kamailio', `2021-06-01T08:00:00.123456+00:00 sip1 kamailio[1234]: ${PIKE}`));
    assert.equal(events[0]?.kind, 'flood');
    assert.equal(events[0]?.at, Date.UTC(2021, 5, 1, 8, 0, 0, 123));
  });

  it('the recommended auth-failed xlog line from kamailio, as in its stderr sample but dated by syslog', () => {
    const events = viaSyslog('kamailio', `<28>Dec 30 10:00:00 sip1 kamailio[29317]: ${AUTH}`);
    const stderr = parse('kamailio', ` 1(29317) ${AUTH}`);
    assert.equal(events.length, 1);
    assert.deepEqual(
      withoutRaw(events).map(({ at: _at, ...rest }) => rest),
      withoutRaw(stderr).map(({ at: _at, ...rest }) => rest),
    );
    assert.equal(events[0]?.kind, 'auth-failure');
    assert.equal(events[0]?.ip, '192.0.2.10');
    assert.equal(events[0]?.account, '100');
    assert.equal(events[0]?.evidence, 'verified');
    assert.equal(events[0]?.at, Date.UTC(2021, 11, 30, 10));
  });

  it('a dateless Kamailio message yields the stderr-form events, dated by the reference time', () => {
    assert.deepEqual(viaSyslog('kamailio', `<28>kamailio[29317]: ${AUTH}`), parse('kamailio', ` 0(29317) ${AUTH}`));
    assert.equal(viaSyslog('kamailio', `<28>kamailio[29317]: ${AUTH}`)[0]?.at, ctx.referenceTime);
  });

  it('an Asterisk NOTICE from asterisk (as asterisk.samples.log has it in file form)', () => {
    const astCtx: ParseContext = { timezone: 'UTC', referenceTime: Date.UTC(2024, 5, 1) };
    const body =
      "NOTICE[32257]: chan_sip.c:23417 in handle_request_register: Registration from '<sip:301@example.com>' failed for " +
      "'192.168.200.100:36998' - Wrong password";
    const events = viaSyslog('asterisk', `<29>Nov  4 18:30:40 localhost asterisk[32229]: ${body}`, astCtx);
    const file = parse('asterisk', `Nov 4 18:30:40 localhost asterisk[32229]: ${body}`, astCtx);
    assert.equal(events.length, 1);
    assert.deepEqual(withoutRaw(events), withoutRaw(file));
    assert.equal(events[0]?.kind, 'auth-failure');
    assert.equal(events[0]?.ip, '192.168.200.100');
    assert.equal(events[0]?.port, 36998);
    assert.equal(events[0]?.at, 1699122640000);
    assert.deepEqual(
      withoutRaw(viaSyslog('asterisk', `<29>asterisk[32229]: ${body}`, astCtx)).map(({ at: _at, ...rest }) => rest),
      withoutRaw(file).map(({ at: _at, ...rest }) => rest),
    );
  });

  it('an OpenSIPS pike BLOCK and a FreeSWITCH auth failure', () => {
    const opensips = 'Dec 31 12:00:00 sip1 opensips[1234]: WARNING:PIKE - BLOCKing ip 198.51.100.7, node=0x7f3c2a1b4c58';
    assert.deepEqual(viaSyslog('opensips', `<28>${opensips}`), parse('opensips', opensips));
    assert.equal(parse('opensips', opensips)[0]?.kind, 'flood');
    const freeswitch =
      "Oct  3 10:00:01 pbx freeswitch[811]: 2021-10-03 10:00:01.000001 [WARNING] sofia_reg.c:1716 SIP auth failure (REGISTER) on sofia profile 'internal' for [300@pbx] from ip 198.51.100.9";
    assert.deepEqual(viaSyslog('freeswitch', `<28>${freeswitch}`), parse('freeswitch', freeswitch));
    assert.equal(parse('freeswitch', freeswitch)[0]?.ip, '198.51.100.9');
  });

  it('an injected pike phrase in a syslog message is still seen as tampered', () => {
    const forged = 'NOTICE: <script>: REQ OPTIONS from 192.0.2.10:5060 ua=pike [pike_funcs.c:135]: pike_check_ipaddr(): PIKE - BLOCKing ip 203.0.113.66, node=0x1';
    const [event] = viaSyslog('kamailio', `<29>Jan  1 12:00:00 sip1 kamailio[1]: ${forged}`);
    assert.equal(event?.kind, 'tampered');
    assert.equal(event?.ip, undefined);
  });
});
