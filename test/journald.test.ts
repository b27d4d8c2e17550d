import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../src/config/load.js';
import { CAPTURE } from '../src/sources/journald/testing/capture.js';
import { startDaemon, tempDir, type RunningDaemon } from './helpers.js';

/**
 * The journald source through the real daemon (dry-run enforcer). This machine runs no journald, so `command`
 * points at a script that plays a recorded `journalctl -o json` capture and then follows, ignoring the follow
 * flags the source appends. Five wrong passwords from one address in the capture ban it.
 */
describe('journald source config', () => {
  it('defaults the command to journalctl and checks route formats like syslog', () => {
    const config = validateConfig({ sources: [{ id: 'j', type: 'journald', units: ['asterisk.service'], routes: [{ app: 'asterisk', format: 'asterisk' }] }] });
    assert.deepEqual(config.sources[0]?.type === 'journald' && config.sources[0].command, ['journalctl']);
    assert.throws(() => validateConfig({ sources: [{ id: 'j', type: 'journald', units: ['a.service'], routes: [{ format: 'nope' }] }] }), /sources\[0\]\.routes\[0\]\.format: got "nope"/);
    assert.throws(() => validateConfig({ sources: [{ id: 'j', type: 'journald', units: [], routes: [{ format: 'asterisk' }] }] }), /units/);
  });
});

describe('journald source through the daemon', () => {
  let daemon: RunningDaemon | undefined;
  after(async () => {
    await daemon?.stop();
  });

  it('Asterisk wrong passwords in the journal ban the address', async () => {
    const dir = tempDir('sw-journald-');
    const journalctl = join(dir, 'journalctl');
    writeFileSync(journalctl, `#!/bin/sh\ncat '${CAPTURE}'\nexec sleep 60\n`);
    chmodSync(journalctl, 0o755);
    const config = join(dir, 'sipwarden.yaml');
    writeFileSync(config, [
      'node: live',
      `store: { sqlite: ${join(dir, 'sw.db')} }`,
      `sources: [{ id: j, type: journald, units: [asterisk.service], command: ["${journalctl}"], routes: [{ app: asterisk, format: asterisk }] }]`,
      'enforce: { backend: dry-run }',
      '',
    ].join('\n'));
    daemon = startDaemon(config);
    await daemon.waitForLog(/banned 203\.0\.113\.50: bruteforce/);
  });
});
