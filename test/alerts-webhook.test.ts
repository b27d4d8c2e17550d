import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Alerter } from '../src/alerts/alerter.js';
import { alertsConfigSchema } from '../src/alerts/config.js';
import { captureLogger, startReceiver, startSmtp, type HookSink, type SmtpSink } from '../src/alerts/testing.js';
import type { Alert } from '../src/alerts/types.js';
import { ManualClock, systemClock } from '../src/core/clock.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const TOKEN = 'hook-token-do-not-log';
const SECRET_PATH = '/services/T0001/B0002/s3cr3tP4th';
const EVIL_UA = '<script>alert(1)</script> <!channel> & <https://evil.example|click>';

const config = (webhooks: unknown[], extra: Record<string, unknown> = {}) =>
  alertsConfigSchema.parse({ consoleUrl: 'https://pbx1.example.net:8088', webhooks, delivery: { retries: 2, backoff: '20ms', timeout: '2s' }, ...extra });

const alert = (over: Partial<Alert> = {}): Alert => ({
  kind: 'known-good-ban', severity: 'warning', at: T0, subject: 'banned known-good address 203.0.113.7',
  what: 'rule scanner banned 203.0.113.7 for 7d.', evidence: ['rule: scanner', `reason: User-Agent ${EVIL_UA}`],
  undo: "sipwarden unban 203.0.113.7 --reason 'customer verified'", target: '203.0.113.7', ...over,
});

type SlackBody = { text: string; blocks: { type: string; text?: { type: string; text: string } }[] };
type TeamsBody = {
  type: string;
  attachments: { contentType: string; content: { type: string; version: string; body: { type: string; inlines: { type: string; text: string }[] }[]; actions: { type: string; url: string }[] } }[];
};

describe('alerts by webhook, against a real HTTP receiver', () => {
  let hook: HookSink;
  before(async () => {
    hook = await startReceiver();
  });
  after(() => hook.close());

  it('json: the alert object, with the configured headers and the console link', async () => {
    hook.requests.length = 0;
    const alerter = new Alerter(config([{ url: `${hook.url}/hook`, headers: { Authorization: `Bearer ${TOKEN}` } }]), { logger: captureLogger().logger, clock: new ManualClock(T0) });
    alerter.send(alert());
    await alerter.close();
    assert.equal(hook.requests.length, 1);
    const [request] = hook.requests;
    assert.equal(request?.path, '/hook');
    assert.equal(request?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.deepEqual(request?.body, { ...alert(), link: 'https://pbx1.example.net:8088/#/explain/203.0.113.7' });
  });

  it('slack: {text, blocks} in mrkdwn with <, > and & escaped, so attacker text makes no link and no @channel', async () => {
    hook.requests.length = 0;
    const alerter = new Alerter(config([{ url: `${hook.url}/slack`, format: 'slack' }]), { logger: captureLogger().logger, clock: new ManualClock(T0) });
    alerter.send(alert());
    await alerter.close();
    const body = hook.requests[0]?.body as SlackBody;
    assert.equal(body.text, 'banned known-good address 203.0.113.7');
    const texts = body.blocks.map((b) => b.text?.text ?? '').join('\n');
    assert.ok(texts.includes('&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;'));
    assert.ok(!/<!channel>|<script>|<https:\/\/evil/.test(JSON.stringify(body)), 'no raw attacker markup anywhere in the body');
    assert.ok(texts.includes("*Undo*\n```sipwarden unban 203.0.113.7 --reason 'customer verified'```"));
    assert.ok(texts.includes('<https://pbx1.example.net:8088/#/explain/203.0.113.7|Open in the sipwarden console>'));
    assert.ok(body.blocks.every((b) => (b.text?.text.length ?? 0) <= 3000), 'within Slack\'s section limit');
  });

  it('teams: a message with an Adaptive Card whose text sits in TextRuns (never markdown) and a link action', async () => {
    hook.requests.length = 0;
    const alerter = new Alerter(config([{ url: `${hook.url}/teams`, format: 'teams' }]), { logger: captureLogger().logger, clock: new ManualClock(T0) });
    alerter.send(alert({ severity: 'critical', kind: 'customer-ban' }));
    await alerter.close();
    const body = hook.requests[0]?.body as TeamsBody;
    assert.equal(body.type, 'message');
    const [attachment] = body.attachments;
    assert.equal(attachment?.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(attachment?.content.type, 'AdaptiveCard');
    const runs = attachment?.content.body.flatMap((block) => block.inlines) ?? [];
    assert.ok(runs.every((run) => run.type === 'TextRun'));
    const texts = runs.map((run) => run.text);
    assert.equal(texts[0], 'banned known-good address 203.0.113.7');
    assert.ok(texts.includes(`• reason: User-Agent ${EVIL_UA}`), 'the text is kept as it was, for a TextRun shows it literally');
    assert.ok(texts.includes("sipwarden unban 203.0.113.7 --reason 'customer verified'"));
    assert.deepEqual(attachment?.content.actions.map((a) => [a.type, a.url]), [['Action.OpenUrl', 'https://pbx1.example.net:8088/#/explain/203.0.113.7']]);
  });

  it('a burst of 10,000 bans gives 3 posts + 1 digest on the webhook and 3 + 1 mails; other kinds are limited on their own', async () => {
    hook.requests.length = 0;
    const smtp: SmtpSink = await startSmtp();
    const clock = new ManualClock(T0);
    const outcomes = new Map<string, number>();
    const alerter = new Alerter(
      config([{ url: `${hook.url}/burst` }], { email: { smtp: { host: '127.0.0.1', port: smtp.port }, from: 'sw@pbx1.example.net', to: ['ops@example.net'] } }),
      { logger: captureLogger().logger, clock, onOutcome: (kind, channel, outcome) => outcomes.set(`${kind} ${channel} ${outcome}`, (outcomes.get(`${kind} ${channel} ${outcome}`) ?? 0) + 1) },
    );
    for (let i = 0; i < 10_000; i++) alerter.send(alert({ target: `10.2.${i >> 8}.${i & 255}`, subject: `banned known-good address 10.2.${i >> 8}.${i & 255}` }));
    for (let i = 0; i < 5; i++) alerter.send(alert({ kind: 'source-down', target: 'ast', subject: 'source ast down' }));
    assert.equal(hook.requests.length, 0, 'send returns before any delivery: it never waits for the network');
    await alerter.flush();
    assert.equal(hook.requests.length, 6, '3 bans and 3 source-down at once');
    clock.advance(10 * 60_000);
    await alerter.flush();
    assert.equal(hook.requests.length, 8, 'then one digest per kind');
    assert.equal(smtp.mails.length, 8, 'the same on the mail side');
    const digests = hook.requests.slice(6).map((r) => r.body as Alert);
    const bans = digests.find((d) => d.kind === 'known-good-ban');
    assert.equal(bans?.subject, '9,997 more known-good-ban alerts in the last 10m');
    assert.equal(bans?.digest?.count, 9997);
    assert.equal(bans?.digest?.targets.length, 50);
    assert.equal(bans?.digest?.otherAlerts, 9947);
    assert.equal(bans?.link, 'https://pbx1.example.net:8088/#/decisions');
    const sources = digests.find((d) => d.kind === 'source-down');
    assert.deepEqual(sources?.digest?.targets, [{ target: 'ast', count: 2 }]);
    assert.deepEqual(alerter.stats(), { sent: { email: 8, 'webhook[0]': 8 }, failed: { email: 0, 'webhook[0]': 0 }, held: 0, digests: 2 });
    // What the metrics count (sipwarden_alerts_total): per kind and channel, sent at once, held, or sent in a digest.
    assert.equal(outcomes.get('known-good-ban webhook[0] sent'), 3);
    assert.equal(outcomes.get('known-good-ban email rate-limited'), 9997);
    assert.equal(outcomes.get('known-good-ban email digested'), 1);
    await alerter.close();
    await smtp.close();
  });

  it('kinds not in alerts.kinds are not sent', async () => {
    hook.requests.length = 0;
    const alerter = new Alerter(config([{ url: `${hook.url}/kinds` }], { kinds: ['customer-ban'] }), { logger: captureLogger().logger, clock: new ManualClock(T0) });
    alerter.send(alert());
    alerter.send(alert({ kind: 'customer-ban' }));
    await alerter.close();
    assert.deepEqual(hook.requests.map((r) => (r.body as Alert).kind), ['customer-ban']);
  });

  it('the window timer sends the digest by itself (real clock, short window)', async () => {
    hook.requests.length = 0;
    const alerter = new Alerter(config([{ url: `${hook.url}/timer` }], { rateLimit: { immediate: 1, window: '150ms' } }), { logger: captureLogger().logger, clock: systemClock });
    for (let i = 0; i < 4; i++) alerter.send(alert({ kind: 'feed-down', target: 'apiban' }));
    const deadline = Date.now() + 5000;
    while (hook.requests.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(hook.requests.length, 2);
    assert.equal((hook.requests[1]?.body as Alert).digest?.count, 3);
    await alerter.close();
    assert.equal(hook.requests.length, 2, 'nothing left for close');
  });
});

describe('webhook failures', () => {
  it('a 500 is retried with backoff, then counted as failed; the URL path and the token are never logged', async () => {
    const failing = await startReceiver(() => 500);
    const { logger, output } = captureLogger();
    const alerter = new Alerter(config([{ url: `${failing.url}${SECRET_PATH}`, format: 'slack', headers: { Authorization: `Bearer ${TOKEN}` } }]), { logger, clock: new ManualClock(T0) });
    assert.doesNotThrow(() => alerter.send(alert()));
    await alerter.close();
    await failing.close();
    assert.equal(failing.requests.length, 3, 'one attempt and two retries');
    assert.deepEqual(alerter.stats().failed, { 'webhook[0]': 1 });
    assert.match(output(), /webhook 127\.0\.0\.1:\d+ answered HTTP 500/);
    assert.ok(!output().includes('s3cr3tP4th') && !output().includes(TOKEN), 'no secret in the log');
  });

  it('a receiver that fails once gets the alert on the retry; a closed port fails with ECONNREFUSED', async () => {
    const flaky = await startReceiver((n) => (n === 0 ? 503 : 204));
    const { logger, output } = captureLogger();
    const closed = await startReceiver();
    await closed.close();
    const alerter = new Alerter(config([{ url: `${flaky.url}/flaky` }, { url: `${closed.url}/closed` }]), { logger, clock: new ManualClock(T0) });
    alerter.send(alert());
    await alerter.close();
    await flaky.close();
    assert.equal(flaky.requests.length, 2);
    assert.deepEqual(alerter.stats().sent, { 'webhook[0]': 1, 'webhook[1]': 0 });
    assert.deepEqual(alerter.stats().failed, { 'webhook[0]': 0, 'webhook[1]': 1 });
    assert.match(output(), /fetch failed \(ECONNREFUSED\)/);
  });
});
