import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../config/load.js';
import { isSipwardenError } from '../core/errors.js';
import { alertsConfigSchema } from './config.js';
import { ALERT_KINDS } from './types.js';

const alertsError = (alerts: unknown): string => {
  try {
    validateConfig({ alerts });
  } catch (error) {
    assert.ok(isSipwardenError(error, 'SW_ERR_CONFIG'));
    return error.message;
  }
  assert.fail('the config was accepted');
};

describe('alerts config', () => {
  it('fills the defaults: all kinds, 3 at once per 10 minutes, 3 retries from 2 s, 10 s timeout, port by TLS mode', () => {
    const config = alertsConfigSchema.parse({
      consoleUrl: 'https://pbx1.example.net:8088/',
      email: { smtp: { host: 'mail.example.net' }, from: 'sipwarden@pbx1.example.net', to: ['voip-ops@example.net'] },
    });
    assert.equal(config.consoleUrl, 'https://pbx1.example.net:8088');
    assert.deepEqual(config.kinds, [...ALERT_KINDS]);
    assert.deepEqual(config.rateLimit, { immediate: 3, window: 600_000, perKind: {} });
    assert.deepEqual(config.delivery, { retries: 3, backoff: 2000, timeout: 10_000 });
    assert.deepEqual(config.email?.smtp, { host: 'mail.example.net', port: 25, secure: false, starttls: 'auto', rejectUnauthorized: true });
    assert.equal(alertsConfigSchema.parse({ email: { smtp: { host: 'h', secure: true }, from: 'a@b.c', to: ['d@e.f'] } }).email?.smtp.port, 465);
    const hooks = alertsConfigSchema.parse({
      webhooks: [{ url: 'https://hooks.slack.com/services/T/B/x', format: 'slack' }, { url: 'http://127.0.0.1:9000/hook' }],
      rateLimit: { perKind: { 'fraud-incident': { immediate: 20, window: '1h' } } },
    });
    assert.deepEqual(hooks.webhooks.map((w) => w.format), ['slack', 'json']);
    assert.deepEqual(hooks.rateLimit.perKind, { 'fraud-incident': { immediate: 20, window: 3_600_000 } });
  });

  it('names the path of each error', () => {
    assert.match(alertsError({ webhooks: [{ url: 'ftp://example.net/x' }] }), /alerts\.webhooks\[0\]\.url: .*expected an http:\/\/ or https:\/\/ URL/);
    assert.match(alertsError({ webhooks: [{ url: 'http://a.example/', format: 'discord' }] }), /alerts\.webhooks\[0\]\.format: got "discord", expected one of "json", "slack", "teams"/);
    assert.match(alertsError({ webhooks: [{ url: 'http://a.example/', headers: { 'X-A': 'a\r\nX-Injected: 1' } }] }), /alerts\.webhooks\[0\]\.headers\.X-A: .*without line breaks/);
    assert.match(alertsError({ email: { smtp: { host: 'h' }, from: 'nobody', to: ['ops@example.net'] } }), /alerts\.email\.from: .*expected an email address/);
    assert.match(alertsError({ email: { smtp: { host: 'h', password: 'x' }, from: 'a@b.c', to: ['d@e.f'] } }), /alerts\.email\.smtp\.user: .*a password needs a user/);
    assert.match(alertsError({ webhooks: [{ url: 'http://a.example/' }], kinds: ['everything'] }), /alerts\.kinds\[0\]: got "everything", expected one of "known-good-ban"/);
    assert.match(alertsError({ webhooks: [{ url: 'http://a.example/' }], rateLimit: { window: 'soon' } }), /alerts\.rateLimit\.window: .*expected a duration/);
    assert.match(alertsError({ webhooks: [{ url: 'http://a.example/' }], slack: true }), /alerts: unknown key "slack"/);
    assert.match(alertsError({}), /alerts: .*alerts need email or at least one webhook/);
  });
});
