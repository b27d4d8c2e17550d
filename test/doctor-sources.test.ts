import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startAmiTestServer, type AmiTestServer } from '../src/sources/ami/testing/server.js';
import { startEslTestServer, type EslTestServer } from '../src/sources/esl/testing/server.js';
import { tempDir } from './helpers.js';

/** `sipwarden doctor` connects to each live source and says what works and what to fix (loopback only). */
describe('doctor probes live sources', () => {
  let ami: AmiTestServer | undefined;
  let esl: EslTestServer | undefined;
  after(async () => {
    await ami?.close();
    await esl?.close();
  });
  const dir = tempDir('sw-doctor-src-');

  async function doctor(sources: string, extra: string[] = []): Promise<{ status: number | null; out: string }> {
    const config = join(dir, `c${Math.random()}.yaml`);
    writeFileSync(config, [`store: { sqlite: ${join(dir, 'sw.db')} }`, `sources: [${sources}]`, 'enforce: { backend: dry-run }', ...extra].join('\n'));
    // cli() is synchronous: the test servers need the event loop, so run it through a child that does not block it.
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('./helpers.js');
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'doctor', '--config', config]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('close', (status) => resolve({ status, out }));
    });
  }

  it('AMI: a good login is ok; a wrong secret is a failure that names the user, never the secret', async () => {
    ami = await startAmiTestServer({ username: 'sipwarden', secret: 'right-secret', events: ['Event: ChallengeSent\nPrivilege: security,all\nService: PJSIP\nAccountID: 1001\nRemoteAddress: IPV4/UDP/192.0.2.5/5060'] });
    const good = await doctor(`{ id: pbx, type: ami, port: ${ami.port}, username: sipwarden, secret: right-secret }`);
    assert.equal(good.status, 0, good.out);
    assert.match(good.out, /ok {4}source pbx \(ami\): logged in at 127\.0\.0\.1:\d+ as sipwarden .*; saw 1 event\(s\)/);
    const bad = await doctor(`{ id: pbx, type: ami, port: ${ami.port}, username: sipwarden, secret: wrong-secret }`);
    assert.equal(bad.status, 1, bad.out);
    assert.match(bad.out, /FAIL {2}source pbx \(ami\): .*sipwarden/);
    assert.match(bad.out, /fix: check host, port, username and secret in manager\.conf/);
    assert.doesNotMatch(bad.out, /wrong-secret|right-secret/);
  });

  it('ESL: authenticated and subscribed is ok; nothing listening is a failure', async () => {
    esl = await startEslTestServer({ password: 'ClueCon', api: () => 'UP 0 years, 0 days\n' });
    const good = await doctor(`{ id: fs, type: esl, port: ${esl.port}, password: ClueCon }`);
    assert.match(good.out, /ok {4}source fs \(esl\): authenticated at 127\.0\.0\.1:\d+ and subscribed.*; no event within 2 s \(normal when nobody registers/);
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const unused = socket.address().port;
    socket.close();
    const down = await doctor(`{ id: fs, type: esl, port: ${unused}, password: ClueCon }`);
    assert.equal(down.status, 1);
    assert.match(down.out, /FAIL {2}source fs \(esl\): /);
  });

  it('journald: a readable journal is ok; a journalctl that fails is a failure with the fix', async () => {
    const ok = await doctor('{ id: j, type: journald, units: [asterisk.service], command: [/bin/true], routes: [{ format: asterisk }] }');
    assert.match(ok.out, /ok {4}source j \(journald\): the journal is readable for asterisk\.service/);
    const bad = await doctor('{ id: j, type: journald, units: [asterisk.service], command: [/bin/false], routes: [{ format: asterisk }] }');
    assert.equal(bad.status, 1);
    assert.match(bad.out, /FAIL {2}source j \(journald\): \/bin\/false .*failed \(exit code 1\)[^\n]*\n {6}fix: install systemd/);
  });

  it('syslog: a free address is ok; an address in use is a warning', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    const busy = holder.address().port;
    try {
      const used = await doctor(`{ id: sl, type: syslog, udp: "127.0.0.1:${busy}", routes: [{ format: kamailio }] }`);
      assert.match(used.out, /warn {2}source sl \(syslog\): /);
    } finally {
      holder.close();
    }
    const free = await doctor(`{ id: sl, type: syslog, udp: "127.0.0.1:${busy}", routes: [{ format: kamailio }] }`);
    assert.match(free.out, /ok {4}source sl \(syslog\): can listen on udp 127\.0\.0\.1:\d+/);
  });

  it('hep and honeypot: a free address is ok; a port in use (a PBX on it) is named, with the fix', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    const busy = holder.address().port;
    try {
      const used = await doctor(`{ id: bait, type: honeypot, listen: "udp://127.0.0.1:${busy}" }`);
      assert.match(used.out, /warn {2}source bait \(honeypot\): cannot listen on udp:\/\/127\.0\.0\.1:\d+: in use by another process[^\n]*\n {6}fix: give the honeypot a spare address or port/);
    } finally {
      holder.close();
    }
    const free = await doctor(`{ id: hep, type: hep, listen: ["udp://127.0.0.1:${busy}", "tcp://127.0.0.1:${busy}"] }`);
    assert.match(free.out, /ok {4}source hep \(hep\): can listen on udp:\/\/127\.0\.0\.1:\d+, tcp:\/\/127\.0\.0\.1:\d+/);
  });

  it('fraud: the call-authorisation port and the missing geo files are reported', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const busy = (holder.address() as AddressInfo).port;
    try {
      const { out } = await doctor('', [`fraud: { homeCountry: GB, authorize: { listen: "127.0.0.1:${busy}", token: "0123456789abcdef0123" } }`]);
      assert.match(out, /ok {4}toll fraud: home GB, actions monitor-only/);
      assert.match(out, /warn {2}call authorisation: cannot listen on tcp:\/\/127\.0\.0\.1:\d+: in use/);
      assert.match(out, /warn {2}toll fraud: no geo files/);
    } finally {
      holder.close();
    }
  });
});
