import type { Config, FileSourceConfig } from '../config/schema.js';
import type { SecurityEvent } from '../core/event.js';
import type { Logger } from '../core/logger.js';
import { createParser } from '../parsers/index.js';
import type { LineParser } from '../parsers/types.js';
import { createFileSource } from '../sources/file/index.js';
import type { RecordBatch, Source } from '../sources/types.js';
import type { Store } from '../store/types.js';
import { bindHepSource } from './hep-source.js';
import { bindHoneypotSource } from './honeypot-source.js';
import { bindLiveSource } from './live-sources.js';

/** A source of log lines with the parser for them. */
export interface LineSource {
  kind: 'lines';
  id: string;
  source: Source;
  parser: LineParser;
  timezone: string;
  sensor: string;
}

/**
 * A source whose records are protocol messages (AMI, ESL, syslog): its client and its parser are composed
 * here, in the daemon, so sources still never parse and parsers still do no I/O. Yields parsed events; the
 * supervisor restarts it when it throws (reconnects).
 */
export interface EventSource {
  kind: 'events';
  id: string;
  format: string;
  sensor: string;
  events(signal: AbortSignal): AsyncIterable<SecurityEvent[]>;
  /**
   * Hangs up a live call on the server this source is connected to (AMI `Hangup`, ESL `uuid_kill`), for the
   * toll-fraud actions; resolves with the server's answer. Absent for sources that cannot.
   */
  hangup?(target: { channel?: string; uniqueId?: string }): Promise<string>;
}

export type BoundSource = LineSource | EventSource;

/** Builds each configured source with its parser and, for files, its saved position. */
export async function bindSources(config: Config, store: Store, fromStart: boolean, logger?: Logger): Promise<BoundSource[]> {
  const bound: BoundSource[] = [];
  for (const spec of config.sources) {
    const sensor = `${config.node}/${spec.id}`;
    if (spec.type === 'file') bound.push(await bindFile(spec, config, store, fromStart, sensor));
    else if (spec.type === 'hep') bound.push(bindHepSource(spec, config, sensor, logger));
    else if (spec.type === 'honeypot') bound.push(bindHoneypotSource(spec, config, store, sensor, undefined, logger));
    else bound.push(bindLiveSource(spec, config, sensor));
  }
  return bound;
}

async function bindFile(spec: FileSourceConfig, config: Config, store: Store, fromStart: boolean, sensor: string): Promise<LineSource> {
  const position = await store.position(spec.id);
  const source = createFileSource({
    id: spec.id,
    path: spec.path,
    startAt: fromStart ? 'start' : spec.startAt,
    ...(position && position.path === spec.path ? { position } : {}),
  });
  return { kind: 'lines', id: spec.id, source, parser: createParser(spec.format, config), timezone: spec.timezone ?? config.timezone, sensor };
}

/** Parses a batch of lines; events get the sensor id of their source. Parsers never throw, by contract. */
export function parseBatch(bound: LineSource, batch: RecordBatch, now: number): SecurityEvent[] {
  const ctx = { timezone: bound.timezone, referenceTime: now };
  const out: SecurityEvent[] = [];
  for (const record of batch.records) {
    const events = bound.parser.parse(record, ctx);
    for (const event of events) {
      event.sensor = bound.sensor;
      out.push(event);
    }
  }
  return out;
}
