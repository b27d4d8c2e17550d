import type { AmiSourceConfig, Config, EslSourceConfig, JournaldSourceConfig, SyslogSourceConfig } from '../config/schema.js';
import type { SecurityEvent } from '../core/event.js';
import { swError } from '../core/errors.js';
import { parseAmiEvent } from '../parsers/ami/index.js';
import { parseEslEvent } from '../parsers/esl/index.js';
import { createParser } from '../parsers/index.js';
import type { LineParser } from '../parsers/types.js';
import { createAmiClient } from '../sources/ami/client.js';
import { createEslClient } from '../sources/esl/client.js';
import { createJournaldSource } from '../sources/journald/source.js';
import { createSyslogListener } from '../sources/syslog/listener.js';
import type { SyslogMessage } from '../sources/syslog/message.js';
import { lineFor, routeFormat, type SyslogRoute } from '../sources/syslog/route.js';
import type { EventSource } from './sources.js';

type LiveSourceConfig = AmiSourceConfig | EslSourceConfig | SyslogSourceConfig | JournaldSourceConfig;

export function bindLiveSource(spec: LiveSourceConfig, config: Config, sensor: string): EventSource {
  if (spec.type === 'ami') return bindAmi(spec, config, sensor);
  if (spec.type === 'esl') return bindEsl(spec, config, sensor);
  if (spec.type === 'journald') return bindJournald(spec, config, sensor);
  return bindSyslog(spec, config, sensor);
}

function stamp(events: readonly SecurityEvent[], sensor: string, into: SecurityEvent[]): void {
  for (const event of events) {
    event.sensor = sensor;
    into.push(event);
  }
}

/** A channel name or id the server wrote, checked again before it goes into a command: one line, bounded. */
function commandSafe(text: string | undefined): string | undefined {
  return text !== undefined && text.length > 0 && text.length <= 128 && /^[\x21-\x7e]+$/.test(text) ? text : undefined;
}

function bindAmi(spec: AmiSourceConfig, config: Config, sensor: string): EventSource {
  const client = createAmiClient({ host: spec.host, port: spec.port, username: spec.username, secret: spec.secret, auth: spec.auth, events: spec.events });
  return {
    kind: 'events', id: spec.id, format: 'ami', sensor,
    async hangup(target) {
      const channel = commandSafe(target.channel);
      if (channel === undefined) throw swError('SW_ERR_SOURCE', `AMI ${spec.id}: no usable channel name to hang up`);
      // Cause 21 (call rejected), as the dialplan snippets use for a denied call.
      const answer = await client.action([['Action', 'Hangup'], ['Channel', channel], ['Cause', '21']]);
      return `${answer.get('Response') ?? '?'}: ${answer.get('Message') ?? ''}`.trim();
    },
    async *events(signal) {
      for await (const message of client.messages(signal)) {
        const out: SecurityEvent[] = [];
        stamp(parseAmiEvent(message, { timezone: config.timezone, referenceTime: Date.now() }), sensor, out);
        if (out.length > 0) yield out;
      }
    },
  };
}

function bindEsl(spec: EslSourceConfig, config: Config, sensor: string): EventSource {
  const client = createEslClient({ host: spec.host, port: spec.port, password: spec.password, events: spec.events });
  return {
    kind: 'events', id: spec.id, format: 'esl', sensor,
    async hangup(target) {
      const uuid = commandSafe(target.uniqueId);
      if (uuid === undefined || !/^[0-9a-fA-F-]{8,64}$/.test(uuid)) throw swError('SW_ERR_SOURCE', `ESL ${spec.id}: no usable call uuid to hang up`);
      return (await client.api(`uuid_kill ${uuid} CALL_REJECTED`)).trim();
    },
    async *events(signal) {
      for await (const event of client.events(signal)) {
        const out: SecurityEvent[] = [];
        stamp(parseEslEvent(event, { timezone: config.timezone, referenceTime: Date.now() }), sensor, out);
        if (out.length > 0) yield out;
      }
    },
  };
}

function splitHostPort(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
}

type Routed = (batch: readonly { message: SyslogMessage; receivedAt: number }[]) => SecurityEvent[];

/** Each message goes to the parser of the first route that matches it, one parser per route format. */
function routeToParsers(routes: readonly SyslogRoute[], timezone: string, config: Config, sensor: string): Routed {
  const parsers = new Map<string, LineParser>();
  const parserFor = (format: string): LineParser => {
    let parser = parsers.get(format);
    if (!parser) parsers.set(format, (parser = createParser(format, config)));
    return parser;
  };
  return (batch) => {
    const out: SecurityEvent[] = [];
    for (const { message, receivedAt } of batch) {
      const format = routeFormat(message, routes);
      if (!format) continue;
      stamp(parserFor(format).parse(lineFor(message, format), { timezone, referenceTime: receivedAt }), sensor, out);
    }
    return out;
  };
}

function bindSyslog(spec: SyslogSourceConfig, config: Config, sensor: string): EventSource {
  const listener = createSyslogListener({
    ...(spec.udp ? { udp: splitHostPort(spec.udp) } : {}),
    ...(spec.tcp ? { tcp: splitHostPort(spec.tcp) } : {}),
    maxConnections: spec.maxConnections,
  });
  const route = routeToParsers(spec.routes, spec.timezone ?? config.timezone, config, sensor);
  return {
    kind: 'events', id: spec.id, format: 'syslog', sensor,
    async *events(signal) {
      for await (const batch of listener.messages(signal)) {
        const out = route(batch);
        if (out.length > 0) yield out;
      }
    },
  };
}

/** Journal entries are routed like syslog messages: each is dated in the zone its parser reads it in. */
function bindJournald(spec: JournaldSourceConfig, config: Config, sensor: string): EventSource {
  const timezone = spec.timezone ?? config.timezone;
  const journal = createJournaldSource({ units: spec.units, command: spec.command, timezone });
  const route = routeToParsers(spec.routes, timezone, config, sensor);
  return {
    kind: 'events', id: spec.id, format: 'journald', sensor,
    async *events(signal) {
      for await (const batch of journal.messages(signal)) {
        const out = route(batch);
        if (out.length > 0) yield out;
      }
    },
  };
}
