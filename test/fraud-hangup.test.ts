import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { requestText } from '../src/detectors/wire/testing.js';
import { encodeHep3 } from '../src/sources/hep/testing.js';
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

describe('toll-fraud hangup through the command hook, for a call seen over HEP', () => {
  let daemon: RunningDaemon | undefined;
  const dir = tempDir('sw-hangup-hook-');
  const config = join(dir, 'sipwarden.yaml');
  const hook = join(dir, 'hangup.sh');
  const record = join(dir, 'hangups.txt');
  writeFileSync(hook, `#!/bin/sh\nprintf '%s|' "$@" >> '${record}'\necho ok\n`);
  chmodSync(hook, 0o755);
  after(async () => {
    await daemon?.stop();
  });

  it('runs the hook with the account and the call\'s ids as arguments, never through a shell line', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    writeFileSync(config, [
      'node: pbx', 'timezone: UTC', `store: { sqlite: ${join(dir, 'sw.db')} }`,
      `sources: [{ id: hep, type: hep, listen: "udp://127.0.0.1:${port}" }]`,
      `fraud: { homeCountry: GB, actions: { mode: enforce, hangupCommand: { path: ${hook}, args: [kamailio] } } }`,
      'enforce: { backend: dry-run }', '',
    ].join('\n'));
    daemon = startDaemon(config);
    await daemon.waitForLog(/source started/);
    const invite = requestText({ method: 'INVITE', user: '1001', target: '00882161234567', ip: '198.51.100.20', callId: 'pump-1;$(id)' });
    const now = Date.now();
    const frame = encodeHep3({ srcIp: '198.51.100.20', srcPort: 5060, dstIp: '192.0.2.10', dstPort: 5060, seconds: Math.floor(now / 1000), micros: (now % 1000) * 1000, payload: invite });
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => socket.send(frame, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    socket.close();
    await daemon.waitForLog(/toll-fraud hangup command ran/);
    await waitFor(() => existsSync(record), 5000, 'the hook\'s record');
    assert.equal(readFileSync(record, 'utf8'), 'kamailio|1001|pump-1;$(id)|||', 'each value one argument; the Call-ID\'s $(id) was never run');
  });
});
