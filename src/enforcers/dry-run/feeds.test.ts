import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { feedContract } from '../feed-contract.js';
import { DryRunEnforcer } from './index.js';

const SOURCE = { 4: '10.98.7.1', 6: 'fd98:7::1' } as const;

feedContract('dry-run', async (allow) => {
  const clock = new ManualClock(1_700_000_000_000);
  const enforcer = new DryRunEnforcer(undefined, undefined, { clock, allow });
  await enforcer.init();
  return {
    enforcer,
    reaches: async () => ({ 4: enforcer.feeds.drops(SOURCE[4]) === null, 6: enforcer.feeds.drops(SOURCE[6]) === null }),
    flush: async (feed) => enforcer.feeds.lose(feed),
    objects: async (text) => (await enforcer.feeds.check()).map((c) => c.feed).filter((feed) => feed.includes(text)),
    elapse: async (ms) => clock.advance(ms),
    close: () => enforcer.close(),
  };
}, { source: SOURCE });

it('dry-run journals feed updates', async () => {
  const enforcer = new DryRunEnforcer(undefined, undefined, { clock: new ManualClock(5000) });
  await enforcer.feeds.apply({ feed: 'voipbl', mode: 'replace', entries: ['192.0.2.0/24', '192.0.2.0/24'] });
  await enforcer.feeds.remove('voipbl');
  assert.deepEqual(enforcer.journal, [
    { at: 5000, op: 'feed', feed: 'voipbl', mode: 'replace', count: 1 },
    { at: 5000, op: 'feed', feed: 'voipbl', mode: 'remove', count: 0 },
  ]);
});
