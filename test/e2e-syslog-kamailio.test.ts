import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createNetns, type Netns } from '../src/enforcers/testing/netns.js';
import { eventually } from './e2e/run.js';
import { sippRegister } from './e2e/sip.js';
import { startSipwardenIn, type NamespacedDaemon } from './e2e/sipwarden.js';
import { labUnavailable } from './e2e/topology.js';
import { tempDir } from './helpers.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/kamailio');
const skip = labUnavailable(['kamailio', 'sipp', 'logger']) ?? false;

/**
 * A real Kamailio whose log reaches sipwarden only through syslog: `kamailio -E` (stderr) piped into util-linux
 * `logger --server ... --udp`, as a service manager or a log shipper forwards it. Inside a namespace of the
 * test's own, on its loopback. A brute force seen only through syslog is banned like one seen in a file.
 */
describe('Kamailio logging to the syslog listener', { skip }, () => {
  let ns: Netns | undefined;
  let kamailio: ChildProcess | undefined;
  let logger: ChildProcess | undefined;
  let daemon: NamespacedDaemon | undefined;
  const dir = tempDir('sw-syslog-kam-');
  after(async () => {
    await daemon?.stop();
    // Stop Kamailio's process group (workers included) and logger by their PIDs: TERM, then KILL if needed.
    for (const child of [kamailio, logger]) {
      if (!child?.pid || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const signal = (name: NodeJS.Signals): void => {
        try {
          process.kill(-(child.pid as number), name);
        } catch {
          // Already gone.
        }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    ns?.destroy();
  });

  it('bans the address of a SIPp password guesser seen only in syslog', async () => {
    ns = createNetns('sw-slk');
    const port = 5514;
    const config = join(dir, 'sipwarden.yaml');
    writeFileSync(config, [
      'node: pbx',
      'timezone: UTC',
      `store: { sqlite: ${join(dir, 'sw.db')} }`,
      `sources: [{ id: syslog, type: syslog, udp: "127.0.0.1:${port}", routes: [{ app: kamailio, format: kamailio }] }]`,
      'allow: []',
      'enforce: { backend: dry-run }',
      '',
    ].join('\n'));
    daemon = startSipwardenIn(ns, config);
    await daemon.waitForLog(/source started/, 15_000);

    logger = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), 'logger', '--server', '127.0.0.1', '--port', String(port), '--udp', '--rfc3164', '-t', 'kamailio'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    kamailio = spawn(ns.prefix[0] as string, [
      ...ns.prefix.slice(1), 'kamailio', '-DD', '-E', '-f', join(FIXTURES, 'kamailio.cfg'), '-l', 'udp:127.0.0.1:5060',
      '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-w', dir,
    ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    kamailio.stderr?.pipe(logger.stdin!);

    const wrong = ['123456', 'password', '1001', 'qwerty', 'letmein', 'admin'];
    await eventually(async () => {
      const run = await sippRegister(ns!, { from: '127.0.0.2', localPort: 5070, to: '127.0.0.1', account: '1001', passwords: ['probe'], userAgent: 'Asterisk PBX', scenario: join(FIXTURES, 'register.xml'), dir });
      return run.runs.length > 0 && daemon!.logs.some((l) => /source started/.test(l.msg));
    }, 10_000, 'kamailio answering');
    await sippRegister(ns, { from: '127.0.0.2', localPort: 5070, to: '127.0.0.1', account: '1001', passwords: wrong, userAgent: 'Asterisk PBX', scenario: join(FIXTURES, 'register.xml'), dir });
    const line = await daemon.waitForLog(/banned 127\.0\.0\.2: bruteforce/, 10_000);
    assert.equal(line['rule'], 'bruteforce');
  });
});
