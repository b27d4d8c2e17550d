import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAmiTestServer, type AmiTestServer } from '../src/sources/ami/testing/server.js';
import { startDaemon, tempDir, waitFor, type RunningDaemon } from './helpers.js';

/**
 * The hangup action end to end: an AMI server (the recorded-protocol test server; Asterisk is not a Debian
 * package) reports an endpoint dialling a satellite number, the fraud detector opens a critical incident, and
 * the daemon sends `Action: Hangup` for that channel over the same AMI connection, in enforce mode.
 */
function dialBegin(channel: string, exten: string, uniqueid: string): string {
  const now = (Date.now() / 1000).toFixed(6);
  return [
    'Event: DialBegin', 'Privilege: call,all', `Timestamp: ${now}`, `Channel: ${channel}`, 'ChannelState: 4', 'ChannelStateDesc: Ring',
    'CallerIDNum: 1001', 'CallerIDName: Alice', 'Language: en', 'AccountCode: ', 'Context: from-internal', `Exten: ${exten}`, 'Priority: 2',
    `Uniqueid: ${uniqueid}`, `Linkedid: ${uniqueid}`, 'DestChannel: PJSIP/trunk-00000013', 'DestChannelState: 0', 'DestChannelStateDesc: Down',
    `DestExten: ${exten}`, `DestUniqueid: ${uniqueid}9`, `DestLinkedid: ${uniqueid}`, `DialString: ${exten}@trunk`,
  ].join('\n');
}

describe('toll-fraud hangup over AMI', () => {
  let ami: AmiTestServer | undefined;
  let daemon: RunningDaemon | undefined;
  const dir = tempDir('sw-hangup-');
  const config = join(dir, 'sipwarden.yaml');

  before(async () => {
    ami = await startAmiTestServer({
      username: 'sipwarden', secret: 'ami-secret-1',
      events: [dialBegin('PJSIP/1001-00000012', '02079460000', '1.1'), dialBegin('PJSIP/1001-00000014', '00882161234567', '1.2')],
    });
    writeFileSync(config, [
      'node: pbx', 'timezone: UTC', `store: { sqlite: ${join(dir, 'sw.db')} }`,
      `sources: [{ id: ami, type: ami, host: 127.0.0.1, port: ${ami.port}, username: sipwarden, secret: ami-secret-1, events: "security,call" }]`,
      'fraud: { homeCountry: GB, actions: { mode: enforce } }', 'enforce: { backend: dry-run }', '',
    ].join('\n'));
  });
  after(async () => {
    await daemon?.stop();
    await ami?.close();
  });

  it('hangs up the live high-risk call, and not the domestic one', async () => {
    daemon = startDaemon(config);
    const hangup = await waitFor(() => ami!.actions.find((a) => a.get('Action') === 'Hangup'), 10_000, 'an AMI Hangup action');
    assert.equal(hangup.get('Channel'), 'PJSIP/1001-00000014');
    assert.equal(hangup.get('Cause'), '21');
    await daemon.waitForLog(/toll-fraud hangup sent/);
    assert.equal(ami!.actions.filter((a) => a.get('Action') === 'Hangup').length, 1, 'the domestic call stays up');
  });
});
