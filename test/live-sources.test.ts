import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startAmiTestServer, type AmiTestServer } from '../src/sources/ami/testing/server.js';
import { startEslTestServer, type EslTestServer } from '../src/sources/esl/testing/server.js';
import { startDaemon, tempDir, type RunningDaemon } from './helpers.js';

/**
 * The live sources through the real daemon (dry-run enforcer): AMI and ESL against the protocol test servers,
 * syslog from util-linux `logger`, all on loopback. A brute force seen only through each source is banned like
 * one seen in a log file.
 */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function daemonWith(source: string): RunningDaemon {
  const dir = tempDir('sw-live-');
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(config, [
    'node: live',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    `sources: [${source}]`,
    'enforce: { backend: dry-run }',
    '',
  ].join('\n'));
  return startDaemon(config);
}

const invalidPassword = (ip: string): string => [
  'Event: InvalidPassword', 'Privilege: security,all', 'EventTV: 2026-11-21T10:00:00.000+0000', 'Severity: Error',
  'Service: SIP', 'EventVersion: 2', 'AccountID: 1001', 'SessionID: 0x7f00', 'LocalAddress: IPV4/UDP/192.0.2.1/5060',
  `RemoteAddress: IPV4/UDP/${ip}/5060`, 'Challenge: 1a2b', 'ReceivedChallenge: 1a2b', 'ReceivedHash: 00ff',
].join('\n');

describe('live sources through the daemon', () => {
  const daemons: RunningDaemon[] = [];
  let ami: AmiTestServer | undefined;
  let esl: EslTestServer | undefined;
  after(async () => {
    for (const daemon of daemons) await daemon.stop();
    await ami?.close();
    await esl?.close();
  });

  it('AMI: five InvalidPassword events ban the remote address; the login used MD5 and the security mask', async () => {
    // The server cuts each connection in the middle of a frame after its events: the supervisor must reconnect.
    ami = await startAmiTestServer({ username: 'sipwarden', secret: 's3cret', events: Array.from({ length: 5 }, () => invalidPassword('203.0.113.41')), cutWith: 'Event: InvalidPass' });
    const daemon = daemonWith(`{ id: pbx-ami, type: ami, host: 127.0.0.1, port: ${ami.port}, username: sipwarden, secret: s3cret }`);
    daemons.push(daemon);
    await daemon.waitForLog(/banned 203\.0\.113\.41: bruteforce/);
    assert.equal(ami.logins[0]?.authType, 'md5');
    assert.equal(ami.logins[0]?.events, 'security');
    assert.ok(!daemon.logs.some((l) => JSON.stringify(l).includes('s3cret')), 'the secret never reaches the log');
    const deadline = Date.now() + 8000;
    while (ami.logins.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(ami.logins.length >= 2, `reconnected and logged in again after the cut (logins: ${ami.logins.length})`);
    assert.ok(daemon.logs.some((l) => /source pbx-ami failed; restarting/.test(l.msg)), 'the cut is logged as a source failure');
  });

  it('ESL: five sofia::register_failure events ban the network-ip', async () => {
    esl = await startEslTestServer({ password: 'ClueCon' });
    const daemon = daemonWith(`{ id: fs-esl, type: esl, host: 127.0.0.1, port: ${esl.port}, password: ClueCon, events: [CHANNEL_HANGUP_COMPLETE] }`);
    daemons.push(daemon);
    const session = await esl.nextSession();
    const subscription = await session.subscribed;
    assert.match(subscription, /^event plain CHANNEL_HANGUP_COMPLETE CUSTOM sofia::register_failure/, subscription);
    for (let i = 0; i < 5; i++) {
      session.sendEvent([
        ['Event-Name', 'CUSTOM'], ['Event-Subclass', 'sofia::register_failure'], ['profile-name', 'internal'],
        ['to-user', '1001'], ['to-host', '192.0.2.1'], ['network-ip', '203.0.113.42'], ['network-port', '5062'],
        ['registration-type', 'REGISTER'], ['user-agent', 'friendly-scanner'],
      ]);
    }
    await daemon.waitForLog(/banned 203\.0\.113\.42: bruteforce/);
  });

  it('syslog: a Kamailio pike block sent by logger over UDP bans the address', async () => {
    const port = await freeUdpPort();
    const daemon = daemonWith(`{ id: kam-syslog, type: syslog, udp: "127.0.0.1:${port}", routes: [{ app: kamailio, format: kamailio }] }`);
    daemons.push(daemon);
    await daemon.waitForLog(/source started/);
    const line = 'WARNING: pike [pike_funcs.c:135]: pike_check_ipaddr(): PIKE - BLOCKing ip 203.0.113.43, node=0x7f68eac03498';
    // UDP may be sent before the socket is bound: repeat until the ban shows (the flood rule bans on one event).
    const deadline = Date.now() + 10_000;
    while (!daemon.logs.some((l) => /banned 203\.0\.113\.43/.test(l.msg)) && Date.now() < deadline) {
      spawnSync('logger', ['--server', '127.0.0.1', '--port', String(port), '--udp', '--rfc3164', '-t', 'kamailio', line]);
      await new Promise((r) => setTimeout(r, 100));
    }
    await daemon.waitForLog(/banned 203\.0\.113\.43: flood/, 1000);
  });
});
