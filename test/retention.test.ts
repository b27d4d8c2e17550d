import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { validateConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { createLogger } from '../src/core/logger.js';
import { Daemon } from '../src/daemon/daemon.js';
import { DryRunEnforcer } from '../src/enforcers/dry-run/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { tempDir } from './helpers.js';

it('a flood of events cannot grow the store past its retention limit', async () => {
  const dir = tempDir('sw-retention-');
  const log = join(dir, 'messages');
  const stamp = new Date().toISOString().slice(0, 19).replace('T', ' ');
  // 20,000 failures from an allowlisted address: stored as events, never banned.
  const line = `[${stamp}] NOTICE[1] chan_sip.c: Registration from '<sip:1@h>' failed for '10.0.0.9:5060' - Wrong password\n`;
  writeFileSync(log, line.repeat(20_000));
  const config = validateConfig({
    timezone: 'UTC',
    store: { sqlite: join(dir, 'sw.db'), retention: { maxEvents: 1000, maxAge: '30d' } },
    sources: [{ id: 'ast', type: 'file', path: log, format: 'asterisk', startAt: 'start' }],
    allow: ['10.0.0.0/8'],
    enforce: { backend: 'dry-run' },
  });
  const store = openSqliteStore(config.store.sqlite);
  const quiet = new Writable({ write: (_chunk, _enc, done) => done() });
  const daemon = new Daemon({ config, store, logger: createLogger('warn', 't', quiet), clock: systemClock, enforcer: new DryRunEnforcer() });
  await daemon.start();
  try {
    const total = async (): Promise<number> => Object.values(await store.countEvents({ ip: '10.0.0.9' })).reduce((a, b) => a + (b ?? 0), 0);
    let seen = 0;
    await (async () => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const position = await store.position('ast');
        seen = await total();
        if (position && position.offset === line.length * 20_000 && seen <= 1100) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`store still holds ${seen} events`);
    })();
    assert.ok(seen <= 1100, `at most about maxEvents kept, got ${seen}`);
    assert.ok(seen >= 900, `the newest events are kept, got ${seen}`);
  } finally {
    await daemon.stop();
    await store.close();
  }
});
