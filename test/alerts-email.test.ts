import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Alerter } from '../src/alerts/alerter.js';
import { alertsConfigSchema } from '../src/alerts/config.js';
import { captureLogger, startSmtp, type SmtpSink } from '../src/alerts/testing.js';
import type { Alert } from '../src/alerts/types.js';
import { ManualClock } from '../src/core/clock.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const PASSWORD = 'smtp-pa55-do-not-log';
const EVIL_UA = '<script>alert(1)</script>';

const emailConfig = (port: number, extra: Record<string, unknown> = {}, smtp: Record<string, unknown> = {}) =>
  alertsConfigSchema.parse({
    consoleUrl: 'https://pbx1.example.net:8088',
    email: { smtp: { host: '127.0.0.1', port, ...smtp }, from: 'sipwarden@pbx1.example.net', to: ['voip-ops@example.net', 'noc@example.net'] },
    delivery: { retries: 2, backoff: '20ms', timeout: '2s' },
    ...extra,
  });

const ban = (ip: string, userAgent = 'Yealink SIP-T46S'): Alert => ({
  kind: 'known-good-ban', severity: 'warning', at: T0, subject: `banned known-good address ${ip}`,
  what: `rule bruteforce banned ${ip} for 1h.`,
  evidence: ['rule: bruteforce', `reason: 5 auth-failure from ${ip} (User-Agent ${userAgent})`, 'evidence: verified'],
  undo: `sipwarden unban ${ip} --reason 'customer verified'`, target: ip,
});

/** A loopback port that nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('alerts by email, against a real SMTP server', () => {
  let smtp: SmtpSink;
  before(async () => {
    smtp = await startSmtp({ user: 'sipwarden', password: PASSWORD });
  });
  after(() => smtp.close());

  it('a mail says what happened, the evidence, the undo command and the link; attacker text is escaped in HTML only', async () => {
    smtp.mails.length = 0;
    const { logger, output } = captureLogger();
    const alerter = new Alerter(emailConfig(smtp.port, {}, { user: 'sipwarden', password: PASSWORD }), { logger, clock: new ManualClock(T0) });
    alerter.send(ban('203.0.113.7', EVIL_UA));
    await alerter.close();
    assert.equal(smtp.mails.length, 1);
    const [mail] = smtp.mails;
    assert.ok(mail);
    assert.equal(mail.user, 'sipwarden', 'logged in with the configured user');
    assert.deepEqual(mail.to, ['voip-ops@example.net', 'noc@example.net']);
    assert.equal(mail.from, 'sipwarden@pbx1.example.net');
    assert.equal(mail.subject, '[sipwarden] banned known-good address 203.0.113.7');
    assert.match(mail.headers, /^X-Sipwarden-Kind: known-good-ban$/m);
    for (const part of ['rule bruteforce banned 203.0.113.7 for 1h.', 'rule: bruteforce', 'evidence: verified', "sipwarden unban 203.0.113.7 --reason 'customer verified'", 'https://pbx1.example.net:8088/#/explain/203.0.113.7']) {
      assert.ok(mail.text.includes(part), `text part has ${part}`);
    }
    assert.ok(mail.text.includes(`(User-Agent ${EVIL_UA})`), 'the text part shows the User-Agent as it was');
    assert.ok(!mail.html.includes('<script>'), 'no attacker markup in the HTML part');
    assert.ok(mail.html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'), 'the User-Agent is escaped in the HTML part');
    assert.ok(mail.html.includes("sipwarden unban 203.0.113.7 --reason &#39;customer verified&#39;"));
    assert.ok(mail.html.includes('<a href="https://pbx1.example.net:8088/#/explain/203.0.113.7">'));
    assert.deepEqual(alerter.stats(), { sent: { email: 1 }, failed: { email: 0 }, held: 0, digests: 0 });
    assert.ok(!output().includes(PASSWORD));
  });

  it('a burst of 10,000 known-good bans gives 3 mails and one digest per window, listing a bounded sample', async () => {
    smtp.mails.length = 0;
    const clock = new ManualClock(T0);
    const alerter = new Alerter(emailConfig(smtp.port, {}, { user: 'sipwarden', password: PASSWORD }), { logger: captureLogger().logger, clock });
    for (let i = 0; i < 10_000; i++) alerter.send(ban(`10.1.${i >> 8}.${i & 255}`));
    await alerter.flush();
    assert.equal(smtp.mails.length, 3, 'the first three at once');
    assert.equal(alerter.stats().held, 9997);
    clock.advance(10 * 60_000);
    await alerter.flush();
    assert.equal(smtp.mails.length, 4, 'then exactly one digest');
    const digest = smtp.mails[3];
    assert.ok(digest);
    assert.equal(digest.subject, '[sipwarden] 9,997 more known-good-ban alerts in the last 10m');
    const listed = digest.text.split('\n').filter((line) => /^ {2}- 10\.1\.\d+\.\d+$/.test(line));
    assert.equal(listed.length, 50, 'the first 50 targets');
    assert.equal(listed[0], '  - 10.1.0.3');
    assert.ok(digest.text.includes('... and 9,947 more alerts not listed'));
    assert.match(digest.text, /for target in 10\.1\.0\.3 10\.1\.0\.4 .* 10\.1\.0\.52; do sipwarden unban "\$target" --reason 'customer verified'; done/);
    assert.ok(digest.text.includes('https://pbx1.example.net:8088/#/decisions'));
    assert.ok(digest.text.length < 20_000, 'the digest stays small');
    await alerter.flush();
    clock.advance(10 * 60_000);
    await alerter.flush();
    assert.equal(smtp.mails.length, 4, 'a quiet window sends nothing');
    alerter.send(ban('192.0.2.1'));
    await alerter.close();
    assert.equal(smtp.mails.length, 5, 'after a quiet window the next alert goes out at once');
    assert.deepEqual(alerter.stats(), { sent: { email: 5 }, failed: { email: 0 }, held: 0, digests: 1 });
  });

  it('a dead SMTP server is retried, then counted as failed and logged without the password; send never throws', async () => {
    const { logger, output } = captureLogger();
    const alerter = new Alerter(emailConfig(await deadPort(), {}, { user: 'sipwarden', password: PASSWORD }), { logger, clock: new ManualClock(T0) });
    assert.doesNotThrow(() => alerter.send(ban('203.0.113.9')));
    await alerter.close();
    assert.deepEqual(alerter.stats().failed, { email: 1 });
    assert.deepEqual(alerter.stats().sent, { email: 0 });
    const lines = output().trim().split('\n').map((line) => JSON.parse(line) as { msg: string; attempt: number; error: string });
    assert.deepEqual(lines.map((l) => [l.msg, l.attempt]), [
      ['alert not delivered; retrying', 1], ['alert not delivered; retrying', 2], ['alert not delivered; giving up', 3],
    ]);
    assert.match(lines[2]?.error ?? '', /ECONNREFUSED/);
    assert.ok(!output().includes(PASSWORD));
  });

  it('a wrong password or a server without STARTTLS (starttls: always) fails delivery, never the daemon', async () => {
    const { logger, output } = captureLogger();
    const wrong = new Alerter(emailConfig(smtp.port, { delivery: { retries: 0 } }, { user: 'sipwarden', password: 'wrong-secret-xyz' }), { logger, clock: new ManualClock(T0) });
    wrong.send(ban('203.0.113.10'));
    await wrong.close();
    assert.deepEqual(wrong.stats().failed, { email: 1 });
    assert.match(output(), /Invalid login/);
    assert.ok(!output().includes('wrong-secret-xyz'));
    const tls = new Alerter(emailConfig(smtp.port, { delivery: { retries: 0 } }, { starttls: 'always' }), { logger, clock: new ManualClock(T0) });
    tls.send(ban('203.0.113.11'));
    await tls.close();
    assert.deepEqual(tls.stats().failed, { email: 1 }, 'no mail in clear text when STARTTLS is required');
  });
});
