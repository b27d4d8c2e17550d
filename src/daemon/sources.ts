import type { Config } from '../config/schema.js';
import type { SecurityEvent } from '../core/event.js';
import { createParser } from '../parsers/index.js';
import type { LineParser } from '../parsers/types.js';
import { createFileSource } from '../sources/file/index.js';
import type { RecordBatch, Source } from '../sources/types.js';
import type { Store } from '../store/types.js';

export interface BoundSource {
  id: string;
  source: Source;
  parser: LineParser;
  timezone: string;
  sensor: string;
}

/** Builds each configured source with its parser and saved position; `fromStart` overrides startAt. */
export async function bindSources(config: Config, store: Store, fromStart: boolean): Promise<BoundSource[]> {
  const bound: BoundSource[] = [];
  for (const spec of config.sources) {
    const position = await store.position(spec.id);
    const source = createFileSource({
      id: spec.id,
      path: spec.path,
      startAt: fromStart ? 'start' : spec.startAt,
      ...(position && position.path === spec.path ? { position } : {}),
    });
    bound.push({
      id: spec.id,
      source,
      parser: createParser(spec.format, config),
      timezone: spec.timezone ?? config.timezone,
      sensor: `${config.node}/${spec.id}`,
    });
  }
  return bound;
}

/** Parses a batch; events get the sensor id of their source. Parsers never throw, by contract. */
export function parseBatch(bound: BoundSource, batch: RecordBatch, now: number): SecurityEvent[] {
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
