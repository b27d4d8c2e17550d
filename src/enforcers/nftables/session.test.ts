import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { canCreateNetns, createNetns } from '../testing/netns.js';
import { NftSession } from './session.js';

const skip = canCreateNetns() ? false : 'needs root and network namespaces';

describe('a long-lived nft session', { skip }, () => {
  const ns = skip ? undefined : createNetns('swnfts');
  const session = skip ? undefined : new NftSession(ns!.runner);
  after(() => {
    session?.close();
    ns?.destroy();
  });
  const list = () => ns!.exec(['nft', 'list', 'set', 'inet', 't', 's']);

  it('commits one transaction per call', async () => {
    await session!.run('add table inet t\nadd set inet t s { type ipv4_addr; flags timeout; }');
    await session!.run('add element inet t s { 192.0.2.1 timeout 1h }');
    assert.match(list(), /192\.0\.2\.1 timeout 1h/);
  });

  it('a failing command rejects with nft\'s error and commits nothing of its transaction', async () => {
    await assert.rejects(
      session!.run('add element inet t s { 192.0.2.2 }\nadd element inet t absent { 192.0.2.3 }'),
      (error: Error & { code?: string }) => error.code === 'SW_ERR_ENFORCER' && /No such file or directory/.test(error.message),
    );
    assert.doesNotMatch(list(), /192\.0\.2\.2/);
    await session!.run('add element inet t s { 192.0.2.4 }');
    assert.match(list(), /192\.0\.2\.4/, 'the session goes on after an error');
  });

  it('restarts nft when it died', async () => {
    session!.close();
    await session!.run('add element inet t s { 192.0.2.5 }');
    assert.match(list(), /192\.0\.2\.5/);
  });
});
