import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { defaultConfig, parseConfigText } from './load.js';
import { configJsonSchema } from './schema.js';

const fail = (text: string): string => {
  try {
    parseConfigText(text, 'test.yaml', { AMI: 'x' });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
};

describe('config', () => {
  it('defaults come from the schema and durations become ms', () => {
    const config = defaultConfig();
    assert.equal(config.rules.bruteforce?.window, 60_000);
    assert.equal(config.rules.scanner?.ban, 7 * 86_400_000);
    assert.equal(config.enforce.backend, 'nftables');
    assert.equal(config.enforce.guard.ban, 600_000);
    assert.ok(Object.isFrozen(config.rules));
  });

  it('unknown keys name the path and the allowed keys', () => {
    assert.match(fail('enforce: { backnd: dry-run }'), /enforce: unknown key "backnd"; allowed keys: backend, scope, sipPorts, table, forward, command, guard, dryRun, journal/);
    assert.match(fail('sources: [{ id: a, type: file, path: /x, format: asterisk, colour: red }]'), /sources\[0\]: unknown key "colour"/);
    assert.match(fail('bogus: 1'), /\(top level\): unknown key "bogus"/);
  });

  it('bad values name the path, the value and what is expected', () => {
    assert.match(fail('rules: { bf: { on: [auth-failure], threshold: 5, window: 5 min } }'), /rules\.bf\.window: got "5 min", expected a duration such as 30s, 5m, 1h, 7d/);
    assert.match(fail('rules: { bf: { on: [auth-fail], threshold: 5 } }'), /rules\.bf\.on\[0\]: got "auth-fail", expected one of "auth-failure"/);
    assert.match(fail('allow: [10.0.0.0/33]'), /allow\[0\]: got "10.0.0.0\/33", expected an IPv4\/IPv6 address/);
    assert.match(fail('timezone: Mars/Olympus'), /timezone: got "Mars\/Olympus", expected an IANA time zone/);
    assert.match(fail('sources: [{ id: a, type: file, path: /x, format: astrisk }]'), /sources\[0\]\.format: got "astrisk", expected one of asterisk, asterisk-security/);
    assert.match(fail('sources: [{ id: a, type: file, path: /x, format: asterisk }, { id: a, type: file, path: /y, format: asterisk }]'), /sources\[1\]\.id: "a" is used twice/);
    assert.match(fail('fraud: { homeCountry: XX }'), /fraud\.homeCountry: got "XX", expected a country code libphonenumber knows/);
    assert.match(fail('fraud: { homeCountry: GB, outsideLine: ["9a"] }'), /fraud\.outsideLine\[0\]: got "9a", expected 1 to 6 digits/);
    assert.match(fail('sources: [{ id: h, type: hep, listen: "udp:0.0.0.0:9060" }]'), /sources\[0\]\.listen: got "udp:0\.0\.0\.0:9060", expected udp:\/\/host:port or tcp:\/\/host:port/);
  });

  it('fraud: optional, country codes upper-cased, defaults filled in', () => {
    assert.equal(defaultConfig().fraud, undefined);
    const config = parseConfigText('fraud: { homeCountry: gb, allowedCountries: [ie] }', 'test.yaml', {});
    assert.deepEqual(config.fraud, {
      homeCountry: 'GB', outsideLine: [], allowedCountries: ['IE'], highRiskCountries: [], extensionDigits: 6, domesticPremium: 'T4', hotlist: [], ignoreAccounts: [], actions: { mode: 'monitor', deny: 3_600_000, ban: 43_200_000, hangup: true },
      rates: { currency: 'EUR', tiers: { T1: 0.02, T2: 0.1, T3: 0.5, T4: 3 }, prefixes: [] },
    });
    assert.match(fail('fraud: { homeCountry: GB, authorize: { token: short } }'), /fraud\.authorize\.token: /);
  });

  it('custom patterns are compiled at load time, so a bad regex fails at start-up', () => {
    assert.match(fail('formats: { sbc: { patterns: [{ regex: "no group here", kind: auth-failure }] } }'), /formats\.sbc\.patterns\[0\]: regex has no named group "ip"/);
    assert.match(fail('formats: { sbc: { patterns: [{ regex: "(?<ip>[", kind: auth-failure }] } }'), /formats\.sbc\.patterns\[0\]/);
    assert.match(fail('formats: { sbc: { patterns: [{ regex: "(?<ip>[0-9.]+)", kind: tampered }] } }'), /kind tampered is not allowed/);
  });

  it('cross-field rules: the command backend needs a program', () => {
    assert.match(fail('enforce: { backend: command }'), /enforce: .*backend command needs enforce\.command\.path/);
  });

  it('live sources: defaults, and what a syslog source needs', () => {
    const config = parseConfigText('sources: [{ id: a, type: ami, username: u, secret: "${AMI}" }]', 't', { AMI: 'x' });
    assert.deepEqual(config.sources[0], { id: 'a', type: 'ami', host: '127.0.0.1', port: 5038, username: 'u', secret: 'x', auth: 'md5', events: 'security' });
    assert.match(fail('sources: [{ id: s, type: syslog, routes: [{ app: kamailio, format: kamailio }] }]'), /sources\[0\]: a syslog source needs udp and\/or tcp/);
    assert.match(fail('sources: [{ id: s, type: syslog, udp: "127.0.0.1:514", routes: [{ app: k, format: kamailo }] }]'), /sources\[0\]\.routes\[0\]\.format: got "kamailo"/);
    assert.match(fail('sources: [{ id: s, type: syslog, udp: "514", routes: [{ format: kamailio }] }]'), /sources\[0\]\.udp: got "514", expected host:port/);
    assert.match(fail('sources: [{ id: e, type: esl }]'), /sources\[0\]\.password: got nothing/);
    // Values at secret paths are never echoed: start-up errors go to the journal.
    const leaked = fail('alerts: { webhooks: [{ url: "ftp://hooks.example/T000/B000/s3cr3tpath" }] }');
    assert.match(leaked, /alerts\.webhooks\[0\]\.url: got \(a value, not shown/);
    assert.doesNotMatch(leaked, /s3cr3tpath/);
    assert.doesNotMatch(fail('fraud: { homeCountry: DE, authorize: { token: "short-s3cr3t" } }'), /short-s3cr3t/);
  });

  it('YAML syntax errors and missing environment variables are clear', () => {
    assert.match(fail('rules: [unclosed'), /test\.yaml: YAML syntax error/);
    assert.match(fail('node: ${NOT_SET_ANYWHERE}'), /environment variable NOT_SET_ANYWHERE is not set/);
    assert.equal(parseConfigText('node: ${AMI}', 't', { AMI: 'pbx7' }).node, 'pbx7');
  });

  it('the example config is valid and documents every top-level key', () => {
    const text = readFileSync('examples/sipwarden.yaml', 'utf8');
    const config = parseConfigText(text, 'examples/sipwarden.yaml', { ...process.env });
    assert.ok(config.sources.length > 0);
    const schema = configJsonSchema() as { properties: Record<string, unknown> };
    for (const key of Object.keys(schema.properties)) assert.match(text, new RegExp(`^#? ?${key}:`, 'm'), `example documents ${key}`);
  });

  it('the commented-out alerts block of the example is valid once uncommented', () => {
    const text = readFileSync('examples/sipwarden.yaml', 'utf8');
    const block = /^# alerts:\n(?:#   .*\n)+/m.exec(text)?.[0];
    assert.ok(block, 'example has an alerts block');
    const yaml = block.replace(/^# ?/gm, '');
    const env = { SMTP_PASSWORD: 'x', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', HOOK_TOKEN: 't' };
    const config = parseConfigText(yaml, 'alerts.yaml', env);
    assert.equal(config.alerts?.webhooks.length, 2);
    assert.deepEqual(config.alerts?.email?.to, ['voip-ops@example.net']);
  });
});
