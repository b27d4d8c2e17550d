import type { Config, HoneypotSourceConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { SecurityEvent } from '../core/event.js';
import type { Logger } from '../core/logger.js';
import { HoneypotCore } from '../honeypot/core.js';
import { HoneypotServer, parseListen, type HoneypotBatch } from '../honeypot/server.js';
import type { Store } from '../store/types.js';
import type { EventSource } from './sources.js';

/**
 * The SIP honeypot: its server answers bait traffic, records it in the store and yields events.
 *
 * Records (hits, hotlist sightings, suppressed counts) are written before the batch's events are yielded, so a
 * ban never refers to a hit that is not stored. A store failure ends the iteration with the error: the
 * supervisor logs it and restarts the source. The core (nonce secret, per-source state) outlives restarts, so
 * a challenge sent before one is still answered after it.
 */
/** How often the counters (requests, answers withheld, records suppressed, refused connections) are logged. */
const SUMMARY_MS = 60_000;

export function bindHoneypotSource(
  spec: HoneypotSourceConfig, config: Config, store: Store, sensor: string, clock: Clock = systemClock, logger?: Logger,
): EventSource {
  const listen = spec.listen.map(parseListen);
  const core = new HoneypotCore({
    clock, userAgent: spec.userAgent, realm: spec.realm, accounts: spec.accounts, reject: spec.reject,
    scanners: config.wire.scanners, scannerCooldownMs: config.wire.flood.cooldown,
  });
  const write = async (batch: Pick<HoneypotBatch, 'hits' | 'dialled' | 'suppressed'>): Promise<void> => {
    if (batch.hits.length === 0 && batch.dialled.length === 0 && batch.suppressed.length === 0) return;
    for (const hit of batch.hits) hit.sensor = sensor;
    await store.addHoneypotRecords(batch);
  };
  return {
    kind: 'events', id: spec.id, format: 'honeypot', sensor,
    async *events(signal) {
      const server = new HoneypotServer({ listen, core, maxConnections: spec.maxConnections });
      let summarisedAt = clock.now();
      let last = '';
      // A summary at most once a minute, and only when something changed: what the bait saw and what its
      // limits held back (answers withheld from floods, hits counted but not stored, refused connections).
      const summarise = (): void => {
        const counters = { ...core.stats, ...server.counters };
        const text = JSON.stringify(counters);
        if (text === last) return;
        last = text;
        logger?.info({ source: spec.id, ...counters }, 'honeypot counters');
      };
      try {
        for await (const batch of server.batches(signal)) {
          if (clock.now() - summarisedAt >= SUMMARY_MS) {
            summarisedAt = clock.now();
            summarise();
          }
          await write(batch);
          const events: SecurityEvent[] = batch.events;
          for (const event of events) event.sensor = sensor;
          if (events.length > 0) yield events;
        }
      } finally {
        summarise();
        // What a stop leaves counted but unwritten: the suppressed requests of the current minute. If the store
        // is what failed, the error that ended the loop is the one to report, not this one.
        await write({ hits: [], dialled: [], suppressed: core.takeSuppressed(true) }).catch(() => undefined);
      }
    },
  };
}
