import assert from 'node:assert/strict';
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Alerter } from '../src/alerts/alerter.js';
import { captureLogger, startReceiver, startSmtp, type HookSink, type ReceivedMail, type SmtpSink } from '../src/alerts/testing.js';
import type { Alert } from '../src/alerts/types.js';
import { validateConfig } from '../src/config/load.js';
import { ManualClock } from '../src/core/clock.js';
import { createLogger } from '../src/core/logger.js';
import { Daemon } from '../src/daemon/daemon.js';
import { DryRunEnforcer } from '../src/enforcers/dry-run/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { cli, startDaemon, tempDir } from './helpers.js';

/**
 * Alerts through the real daemon: lines appended to an Asterisk log, the daemon's parsers, rules and policy,
 * a dry-run enforcer, SQLite, and the Alerter delivering to a real SMTP server and a real webhook receiver.
 * Daemon and Alerter share a ManualClock, so the rate-limit window ends only when the test moves it.
 */

const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const CONSOLE = 'https://pbx1.example.net:8088';

const stamp = (at: number): string => new Date(at).toISOString().slice(0, 19).replace('T', ' ');
const notice = (msg: string, at = T0): string => `[${stamp(at)}] NOTICE[1638] chan_sip.c: ${msg}\n`;
/** Checked against our nonce, so `verified`: the only evidence on which a trunk address may be banned. */
const wrongPassword = (ip: string, user: string, at = T0): string =>
  notice(`Registration from '<sip:${user}@192.0.2.10>' failed for '${ip}:5060' - Wrong password`, at);
/** A single UDP request, so `spoofable`: these bans draw on the ban budget. */
const noSuchPeer = (ip: string, user: string): string => notice(`Registration from '<sip:${user}@192.0.2.10>' failed for '${ip}:5061' - No matching peer found`);
const registered = (ip: string, peer: string): string => `[${stamp(T0)}] VERBOSE[1638] chan_sip.c: Registered SIP '${peer}' at ${ip}:5060\n`;

interface Harness {
  smtp: SmtpSink;
  hook: HookSink;
  clock: ManualClock;
  store: Store;
  enforcer: DryRunEnforcer;
  alerter: Alerter;
  append(text: string): void;
  /** Resolves once the daemon has read the log to its end and committed every decision. */
  drain(timeoutMs?: number): Promise<void>;
  /** Alerts the webhook receiver got (the generic JSON body is the alert itself). */
  hooked(): Alert[];
  /** What the daemon and the Alerter logged at warn or above: must stay empty. */
  problems(): string;
  stop(): Promise<void>;
}

async function startHarness(extra: Record<string, unknown> = {}): Promise<Harness> {
  const dir = tempDir('sw-alerts-daemon-');
  const log = join(dir, 'messages');
  writeFileSync(log, '');
  const [smtp, hook] = await Promise.all([startSmtp(), startReceiver()]);
  const config = validateConfig({
    node: 'pbx1',
    timezone: 'UTC',
    store: { sqlite: join(dir, 'sw.db') },
    sources: [{ id: 'ast', type: 'file', path: log, format: 'asterisk', startAt: 'start' }],
    enforce: { backend: 'dry-run' },
    alerts: {
      consoleUrl: CONSOLE,
      email: { smtp: { host: '127.0.0.1', port: smtp.port }, from: 'sipwarden@pbx1.example.net', to: ['voip-ops@example.net'] },
      webhooks: [{ url: `${hook.url}/hooks/sipwarden` }],
      rateLimit: { immediate: 3, window: '10m' },
      delivery: { retries: 1, backoff: '50ms', timeout: '5s' },
    },
    ...extra,
  });
  const clock = new ManualClock(T0);
  const store = openSqliteStore(config.store.sqlite);
  const enforcer = new DryRunEnforcer();
  const alerts = captureLogger();
  const alerter = new Alerter(config.alerts!, { logger: alerts.logger, clock });
  let daemonLog = '';
  const daemonOut = new PassThrough().on('data', (chunk: Buffer) => (daemonLog += chunk.toString('utf8')));
  const daemon = new Daemon({ config, store, logger: createLogger('error', 'pbx1', daemonOut), clock, enforcer, alerter });
  await daemon.start();
  let daemonStopped: Promise<void> | undefined;
  const stopDaemon = (): Promise<void> => (daemonStopped ??= daemon.stop());
  let stopped: Promise<void> | undefined;
  // As `sipwarden run` stops: the daemon first, then the Alerter, which sends what it holds as digests.
  const stop = (): Promise<void> => (stopped ??= (async () => {
    await stopDaemon();
    await alerter.close();
    await store.close();
    await Promise.all([smtp.close(), hook.close()]);
  })());
  return {
    smtp, hook, clock, store, enforcer, alerter,
    append: (text) => appendFileSync(log, text),
    async drain(timeoutMs = 30_000) {
      const size = statSync(log).size;
      await until(async () => (await store.position('ast'))?.offset === size, timeoutMs, `the daemon to read ${size} bytes of log`);
      // Positions are saved as events are read; the commits of their decisions may still be queued behind.
      await stopDaemon();
      await alerter.flush();
    },
    hooked: () => hook.requests.map((request) => request.body as Alert),
    problems: () => [daemonLog, alerts.output()].join('').split('\n').filter((line) => /"level":(4|5|6)0/.test(line)).join('\n'),
    stop,
  };
}

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Lesson 1: every alert says what happened, shows the evidence, and gives the undo command or the next step. */
function assertActionable(mail: ReceivedMail, undo: RegExp): void {
  const text = mail.text;
  const evidence = text.indexOf('\nEvidence:\n  - ');
  const undoAt = text.indexOf('\nUndo:\n  ');
  assert.ok(text.split('\n')[0]!.length > 20, `says what happened: ${text.split('\n')[0]}`);
  assert.ok(evidence > 0 && undoAt > evidence, `has evidence, then an undo section: ${text}`);
  assert.match(text.slice(undoAt), undo);
}

const trunkAddress = (i: number): string => `100.64.${i >> 8}.${i & 255}`;

describe('alerts through the real daemon, against a real SMTP server and webhook receiver', () => {
  it('a burst of 10,000 customer bans: 10,000 bans, 3 mails and webhooks at once, then one digest of 9,997 with the bulk unban', async (t) => {
    const h = await startHarness({ trunks: ['100.64.0.0/16'] });
    try {
      const started = Date.now();
      // Five wrong passwords (verified) per address cross the default bruteforce rule (5 in 1m): 50,000 lines.
      const lines: string[] = [];
      for (let i = 0; i < 10_000; i++) lines.push(wrongPassword(trunkAddress(i), `trunk${i}`).repeat(5));
      h.append(lines.join(''));
      await until(() => h.alerter.stats().held === 9997, 60_000, '9,997 held customer-ban alerts');
      await h.drain();
      const active = await h.store.activeBans(h.clock.now());
      assert.equal(active.length, 10_000, 'the daemon banned every address');
      assert.ok(active.every((ban) => ban.rule === 'bruteforce' && ban.evidence === 'verified' && ban.target.startsWith('100.64.')));
      assert.ok(active.every((ban) => ban.policy.some((step) => step.check === 'trunk' && step.result === 'info')), 'each names the trunk step');
      assert.match((await h.enforcer.verify()).detail, /^dry-run: 10000 bans recorded$/);
      assert.equal((await h.enforcer.lookup(trunkAddress(9999), h.clock.now())).banned, true);

      assert.equal(h.smtp.mails.length, 3, 'three mails at once, the rest held');
      assert.equal(h.hook.requests.length, 3, 'three webhooks at once, the rest held');
      // The three are delivered side by side, so they may arrive in any order.
      assert.deepEqual(h.smtp.mails.map((m) => m.subject).sort(), [0, 1, 2].map((i) => `[sipwarden] banned customer address ${trunkAddress(i)}`));
      assert.deepEqual(h.hooked().map((a) => [a.kind, a.severity, a.target]).sort(), [0, 1, 2].map((i) => ['customer-ban', 'critical', trunkAddress(i)]));
      const first = h.smtp.mails.find((m) => m.subject.endsWith(' 100.64.0.0'))!;
      for (const part of [
        'rule bruteforce banned 100.64.0.0 for 1h. The address is on the customer/trunk list (100.64.0.0/16)',
        'rule: bruteforce', 'evidence: verified', 'events: 5', 'customer/trunk list entry: 100.64.0.0/16',
        `Details: ${CONSOLE}/#/explain/100.64.0.0`,
      ]) assert.ok(first.text.includes(part), `the first mail has ${part}:\n${first.text}`);
      assertActionable(first, /^\nUndo:\n {2}sipwarden unban 100\.64\.0\.0 --reason 'customer verified'$/m);

      // The window ends: one digest per channel, counting the held rest.
      h.clock.advance(10 * 60_000);
      await h.alerter.flush();
      assert.equal(h.smtp.mails.length, 4, 'exactly one digest mail');
      assert.equal(h.hook.requests.length, 4, 'exactly one digest webhook');
      const digest = h.smtp.mails[3]!;
      assert.equal(digest.subject, '[sipwarden] 9,997 more customer-ban alerts in the last 10m');
      const listed = digest.text.split('\n').filter((line) => /^ {2}- 100\.64\.\d+\.\d+$/.test(line));
      assert.deepEqual(listed, Array.from({ length: 50 }, (_, i) => `  - ${trunkAddress(i + 3)}`), 'the first 50 held targets, bounded');
      assert.ok(digest.text.includes('... and 9,947 more alerts not listed'));
      assertActionable(digest, /for target in 100\.64\.0\.3 100\.64\.0\.4 .* 100\.64\.0\.52; do sipwarden unban "\$target" --reason 'customer verified'; done\n {2}# the targets not listed: see sipwarden list/);
      assert.ok(digest.text.includes(`Details: ${CONSOLE}/#/decisions`));
      assert.ok(digest.text.length < 20_000, `the digest stays small: ${digest.text.length} characters`);
      const hooked = h.hooked()[3]!;
      assert.equal(hooked.kind, 'customer-ban');
      assert.equal(hooked.digest?.count, 9997);
      assert.equal(hooked.digest?.targets.length, 50);
      assert.equal(hooked.digest?.otherAlerts, 9947);
      assert.equal(hooked.digest?.targets[0]?.target, trunkAddress(3));
      assert.match(hooked.undo ?? '', /^for target in 100\.64\.0\.3 .* 100\.64\.0\.52; do sipwarden unban "\$target"/);

      await h.stop();
      assert.equal(h.smtp.mails.length, 4, 'closing after the digest sends nothing more');
      assert.deepEqual(h.alerter.stats(), { sent: { email: 4, 'webhook[0]': 4 }, failed: { email: 0, 'webhook[0]': 0 }, held: 0, digests: 1 });
      assert.equal(h.problems(), '');
      // Reported, not asserted: timing belongs to bench/, but a slow run should be visible in the test output.
      t.diagnostic(`10,000 bans and their alerts through the daemon in ${Date.now() - started} ms`);
    } finally {
      await h.stop();
    }
  });

  it('a phone with an old password: one misconfigured-device alert naming the account, and no ban', async () => {
    const h = await startHarness();
    try {
      h.append(registered('198.51.100.77', '1001'));
      // Twelve failures, past the threshold of 5 more than twice: the policy reports a device once per 10 minutes.
      h.append(wrongPassword('198.51.100.77', '1001').repeat(12));
      await h.drain();
      assert.deepEqual(await openBans(h), []);
      assert.equal(h.smtp.mails.length, 1, `one mail: ${h.smtp.mails.map((m) => m.subject).join(', ')}`);
      const mail = h.smtp.mails[0]!;
      assert.equal(mail.subject, '[sipwarden] misconfigured device at 198.51.100.77 (account 1001)');
      assert.match(mail.headers, /^X-Sipwarden-Kind: misconfigured-device$/m);
      assert.ok(mail.text.includes('It was not banned; fix the device.'), mail.text);
      assert.ok(mail.text.includes('reason: misconfigured device: 5 failures for 1001; not banned'), `names the account: ${mail.text}`);
      assert.ok(mail.text.includes('policy known-good block: account 1001 authenticated from this address recently'), mail.text);
      assertActionable(mail, /^ {2}# nothing was banned; the failures: sipwarden why 198\.51\.100\.77$/m);
      assert.deepEqual(h.hooked().map((a) => [a.kind, a.target]), [['misconfigured-device', '198.51.100.77']]);
      assert.equal(h.problems(), '');
    } finally {
      await h.stop();
    }
  });

  it('a known-good address failing for other accounts is banned, and the alert names the accounts it logs in for', async () => {
    const h = await startHarness();
    try {
      h.append(registered('198.51.100.20', '1001'));
      for (const user of ['2001', '2002', '2003', '2004', '2005']) h.append(wrongPassword('198.51.100.20', user));
      await h.drain();
      assert.deepEqual((await openBans(h)).map((b) => b.target), ['198.51.100.20']);
      assert.equal(h.smtp.mails.length, 1);
      const mail = h.smtp.mails[0]!;
      assert.equal(mail.subject, '[sipwarden] banned known-good address 198.51.100.20');
      assert.ok(mail.text.includes('The address is known-good (recent logins for 1001)'), mail.text);
      assert.ok(mail.text.includes('known-good accounts: 1001'), mail.text);
      assertActionable(mail, /^ {2}sipwarden unban 198\.51\.100\.20 --reason 'customer verified'$/m);
      assert.deepEqual(h.hooked().map((a) => [a.kind, a.severity, a.undo]), [['known-good-ban', 'warning', "sipwarden unban 198.51.100.20 --reason 'customer verified'"]]);
      assert.equal(h.problems(), '');
    } finally {
      await h.stop();
    }
  });

  it('a prefix ban that covers a customer alerts too (what the policy found about the offender, not the network address)', async () => {
    const h = await startHarness({ trunks: ['100.64.0.7'], scope: { ipv4: 24 } });
    try {
      h.append(wrongPassword('100.64.0.7', '1001').repeat(5));
      await h.drain();
      assert.deepEqual((await openBans(h)).map((b) => b.target), ['100.64.0.0/24']);
      await until(() => h.smtp.mails.length === 1, 5000, 'one customer-ban mail');
      assert.deepEqual(h.hooked().map((a) => [a.kind, a.target]), [['customer-ban', '100.64.0.0/24']]);
      assert.ok(h.smtp.mails[0]!.text.includes('100.64.0.7'), h.smtp.mails[0]!.text);
    } finally {
      await h.stop();
    }
  });

  it('the ban budget tripping sends one ban-budget alert with the next steps', async () => {
    const h = await startHarness({ budget: { spoofable: { max: 5, per: '1m' } } });
    try {
      // Eight sources of spoofable failures: five bans fit the budget, the other three trip it (once).
      for (let i = 1; i <= 8; i++) h.append(noSuchPeer(`203.0.113.${i}`, 'admin').repeat(5));
      await h.drain();
      assert.equal((await openBans(h)).length, 5, 'five bans, then the budget holds');
      assert.equal(h.smtp.mails.length, 1, `one mail: ${h.smtp.mails.map((m) => m.subject).join(', ')}`);
      const mail = h.smtp.mails[0]!;
      assert.equal(mail.subject, '[sipwarden] ban budget tripped: 5 bans on spoofable evidence in 1m');
      assert.match(mail.headers, /^X-Sipwarden-Severity: critical$/m);
      assert.ok(mail.text.includes('further findings of that kind are reported, not banned'), mail.text);
      assert.ok(mail.text.includes('bans on spoofable evidence: 5'), mail.text);
      assertActionable(mail, /sipwarden list; lift a wrong one: sipwarden unban <ip> --reason \.\.\.; raise budget\.spoofable in the config/);
      assert.deepEqual(h.hooked().map((a) => a.kind), ['ban-budget']);
      assert.match(h.problems(), /^\{"level":50,[^\n]*"used":5,[^\n]*"msg":"ban budget for spoofable evidence exhausted: findings are reported, not banned/);
      assert.equal(h.problems().split('\n').length, 1, 'the budget is logged once, at error level');
    } finally {
      await h.stop();
    }
  });
});

describe('alerts from `sipwarden run` with an alerts: block', () => {
  it('sends the first bans of customers at once and, on SIGTERM, the held rest as one digest per channel', async () => {
    const dir = tempDir('sw-alerts-run-');
    const log = join(dir, 'messages');
    const config = join(dir, 'sipwarden.yaml');
    writeFileSync(log, '');
    const [smtp, hook] = await Promise.all([startSmtp(), startReceiver()]);
    // JSON is YAML: the ports are only known now.
    writeFileSync(config, JSON.stringify({
      node: 'pbx1', timezone: 'UTC', store: { sqlite: join(dir, 'sw.db') },
      sources: [{ id: 'ast', type: 'file', path: log, format: 'asterisk', startAt: 'start' }],
      trunks: ['100.64.0.0/16'], enforce: { backend: 'dry-run' },
      alerts: {
        email: { smtp: { host: '127.0.0.1', port: smtp.port }, from: 'sipwarden@pbx1.example.net', to: ['voip-ops@example.net'] },
        webhooks: [{ url: `${hook.url}/hooks/sipwarden` }], rateLimit: { immediate: 3, window: '1h' },
      },
    }));
    const daemon = startDaemon(config);
    try {
      await daemon.waitForLog(/source started/);
      const now = Date.now();
      for (let i = 0; i < 5; i++) appendFileSync(log, wrongPassword(trunkAddress(i), '7001', now).repeat(5));
      await until(() => smtp.mails.length === 3 && hook.requests.length === 3, 15_000, 'three mails and three webhooks');
      await until(() => (JSON.parse(cli(['list', '--json', '--config', config]).stdout) as unknown[]).length === 5, 15_000, 'five bans in sipwarden list');
      assert.equal(await daemon.stop(), 0);
      assert.equal(smtp.mails.length, 4, 'the held two come out as one digest at shutdown');
      // The window opened with the first ban and ended at the signal, so its length is wall time.
      assert.match(smtp.mails[3]?.subject ?? '', /^\[sipwarden\] 2 more customer-ban alerts in the last \d/);
      assertActionable(smtp.mails[3]!, /^ {2}for target in 100\.64\.0\.\d 100\.64\.0\.\d; do sipwarden unban "\$target" --reason 'customer verified'; done$/m);
      const bodies = hook.requests.map((request) => request.body as Alert);
      assert.equal(bodies.length, 4);
      assert.equal(bodies[3]?.digest?.count, 2);
      assert.ok(daemon.logs.every((line) => line.level < 40 || /^banned 100\.64\.0\.\d/.test(line.msg)), 'nothing but the bans logged at warn or above');
    } finally {
      await daemon.stop();
      await Promise.all([smtp.close(), hook.close()]);
    }
  });
});

async function openBans(h: Harness): Promise<{ target: string }[]> {
  return h.store.activeBans(h.clock.now());
}
