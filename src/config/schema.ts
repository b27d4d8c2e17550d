import { z } from 'zod';
import { EVENT_KINDS, EVIDENCE_CLASSES, SERVERS } from '../core/event.js';
import { parseDuration } from '../core/duration.js';
import { parseCidr } from '../core/ip.js';
import { isValidTimezone } from '../core/time.js';
import { isSupportedCountry } from 'libphonenumber-js/max';

/**
 * The one configuration schema. Unknown keys are errors, defaults live here, and every message names what
 * was expected. Durations are written as `30s`, `5m`, `1h`, `7d` and come out as milliseconds.
 */

import { BUILTIN_FORMATS } from '../parsers/types.js';
import { alertsConfigSchema } from '../alerts/config.js';

export { BUILTIN_FORMATS };

const DURATION_TEXT = /^\d+(?:\.\d+)?(?:ms|s|m|h|d|w)$/;
const durationText = () =>
  z.string().regex(DURATION_TEXT, 'expected a duration such as 30s, 5m, 1h, 7d').transform(parseDuration);
const duration = (fallback: string) => durationText().prefault(fallback);

const timezone = z.string().refine(isValidTimezone, 'expected an IANA time zone such as Europe/Berlin, or UTC, or local');

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'expected a name of letters, digits, - and _');

/** An address, a prefix, or `file:/path` with one of those per line (reloaded when the file changes). */
const addressEntry = z.string().refine(
  (text) => {
    if (text.startsWith('file:')) return text.length > 5;
    try {
      parseCidr(text);
      return true;
    } catch {
      return false;
    }
  },
  'expected an IPv4/IPv6 address, a prefix such as 10.0.0.0/8, or file:/path/to/list',
);

const fileSource = z.strictObject({
  id: name,
  type: z.literal('file'),
  path: z.string().min(1),
  format: name.describe('a built-in format (asterisk, asterisk-security, asterisk-cdr, freeswitch, freeswitch-cdr, kamailio, opensips) or a name under formats'),
  timezone: timezone.optional().describe('zone of the timestamps in this log; default: the top-level timezone'),
  startAt: z.enum(['end', 'start']).default('end').describe('where to begin when no position is saved'),
});

const port = z.number().int().min(1).max(65535);

/** An ISO 3166 alpha-2 code libphonenumber knows, upper-cased. */
const country = () =>
  z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'expected an ISO 3166 alpha-2 country code such as "GB"')
    .transform((code) => code.toUpperCase())
    .refine((code) => isSupportedCountry(code), 'expected a country code libphonenumber knows, such as "US", "GB", "DE"');
const dialPrefix = z.string().regex(/^\d{1,6}$/, 'expected 1 to 6 digits, e.g. "9" or "011"');
const hostPort = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port such as 0.0.0.0:514 or [::]:514');

const amiSource = z.strictObject({
  id: name,
  type: z.literal('ami'),
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(5038),
  username: z.string().min(1),
  secret: z.string().min(1).describe('use ${AMI_SECRET} to keep it out of the file'),
  auth: z.enum(['plain', 'md5']).default('md5'),
  events: z.string().min(1).default('security').describe('the Events: mask of the login'),
});

const eslSource = z.strictObject({
  id: name,
  type: z.literal('esl'),
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(8021),
  password: z.string().min(1).describe('use ${ESL_PASSWORD} to keep it out of the file'),
  events: z
    .array(z.string().regex(/^[A-Za-z0-9_:]+$/, 'expected an event name such as CHANNEL_HANGUP_COMPLETE or sofia::register'))
    .default([])
    .describe('more events besides the sofia registration events, e.g. CHANNEL_CREATE, CHANNEL_HANGUP_COMPLETE'),
});

const routes = z
  .array(z.strictObject({ app: z.string().min(1).optional(), host: z.string().min(1).optional(), format: name }))
  .min(1)
  .describe('first match wins: program name (basename) and/or sending host -> format');

const syslogSource = z.strictObject({
  id: name,
  type: z.literal('syslog'),
  udp: hostPort.optional(),
  tcp: hostPort.optional(),
  maxConnections: z.number().int().min(1).default(64),
  routes,
  timezone: timezone.optional(),
});

const journaldSource = z.strictObject({
  id: name,
  type: z.literal('journald'),
  units: z.array(z.string().min(1)).min(1).describe('systemd units to follow, e.g. asterisk.service'),
  routes,
  command: z.array(z.string().min(1)).min(1).default(['journalctl']).describe('the journalctl program and leading args (tests point it at a recorded capture)'),
  timezone: timezone.optional(),
});

/** `udp://host:port` or `tcp://host:port`; IPv6 hosts in brackets. */
const listenUrl = z
  .string()
  .regex(
    /^(?:udp|tcp):\/\/(?:\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):\d{1,5}$/,
    'expected udp://host:port or tcp://host:port such as udp://0.0.0.0:9060 or tcp://[::]:9060',
  );
const listen = z
  .union([listenUrl, z.array(listenUrl).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]));

/** A single address or prefix (no file: lists), for fields that name machines rather than customers. */
const cidrEntry = z.string().refine(
  (text) => {
    try {
      parseCidr(text);
      return true;
    } catch {
      return false;
    }
  },
  'expected an IPv4/IPv6 address or a prefix such as 10.0.0.0/8',
);

const hepSource = z.strictObject({
  id: name,
  type: z.literal('hep'),
  listen: listen.describe('udp://host:port and/or tcp://host:port; HEPv3 over UDP and TCP, HEPv1/v2 over UDP'),
  authKey: z.string().min(1).optional().describe('accept only frames carrying this HEPv3 auth key (chunk 0x000e); use ${HEP_KEY}'),
  maxConnections: z.number().int().min(1).default(64).describe('TCP: concurrent HEP senders'),
  servers: z
    .array(cidrEntry)
    .default([])
    .describe('addresses of your own SIP servers (proxy, PBX): what they send each other is never blamed on them'),
});

const baitAccount = z.strictObject({
  user: z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/, 'expected a SIP user name of letters, digits, . _ + -'),
  password: z.string().min(1).max(128),
});

const honeypotSource = z.strictObject({
  id: name,
  type: z.literal('honeypot'),
  listen: listen.describe('udp://host:port and/or tcp://host:port of the bait; never the port of a production PBX'),
  userAgent: z.string().min(1).max(128).default('FPBX-16.0.40.7(18.20.2)').describe('sent as User-Agent/Server, like a real PBX'),
  realm: z.string().min(1).max(128).default('asterisk'),
  accounts: z
    .array(baitAccount)
    .min(1)
    .default([
      { user: '100', password: '100' },
      { user: '1000', password: '1234' },
      { user: 'admin', password: 'admin' },
    ])
    .describe('bait accounts with weak passwords: attackers may register with them, never call through them'),
  reject: z.number().int().min(400).max(699).default(503).describe('final status sent to every INVITE after it is recorded'),
  maxConnections: z.number().int().min(1).default(256).describe('TCP: concurrent connections'),
});

const source = z.discriminatedUnion('type', [fileSource, amiSource, eslSource, syslogSource, journaldSource, hepSource, honeypotSource]);

const customPattern = z.strictObject({
  id: name.optional(),
  regex: z.string().min(1).describe('a JavaScript regex with named groups: ip (required), port, account, destination, at, userAgent'),
  kind: z.enum(EVENT_KINDS).refine((kind) => kind !== 'tampered', 'a custom pattern always yields an address; kind tampered is not allowed'),
  evidence: z.enum(EVIDENCE_CLASSES).default('spoofable'),
});

const customFormat = z.strictObject({
  extends: z.enum(BUILTIN_FORMATS).optional().describe('try this built-in format after the custom patterns'),
  patterns: z.array(customPattern).min(1),
});

const rule = z.strictObject({
  on: z.array(z.enum(EVENT_KINDS)).min(1),
  key: z.enum(['ip', 'account']).default('ip').describe('ip bans the address; account only reports'),
  distinct: z.enum(['account', 'destination']).optional().describe('count distinct values instead of events'),
  servers: z
    .array(z.enum(SERVERS))
    .min(1)
    .optional()
    .describe('count only events from these servers; default: every server but the honeypot, whose bait traffic only rules that name it judge'),
  threshold: z.number().int().min(1).max(100_000),
  window: duration('1m'),
  ban: duration('1h'),
  evidence: z.enum(['any', 'verified']).default('any').describe('verified: ban only on evidence that proves the source'),
  dryRun: z.boolean().default(false),
  enabled: z.boolean().default(true),
  scope: z
    .enum(['node', 'fleet'])
    .default('node')
    .describe('fleet: count the events of every node together in PostgreSQL (needs store.postgres), so attempts spread over many PBXs add up; a replay with `sipwarden test` counts one node\'s log alone'),
});

const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'expected an http:// or https:// URL');
const feedId = name.describe('names the feed in sets, status and alerts');

const apibanFeed = z.strictObject({
  id: feedId,
  type: z.literal('apiban'),
  key: z.string().min(8).max(200).describe('the APIBAN key; write ${APIBAN_KEY} to keep it out of the file'),
  version: z.union([z.literal(1), z.literal(2)]).default(2).describe('1: GET /api/{key}/banned/{id}; 2: POST /api/get with a bearer token'),
  url: httpUrl.default('https://apiban.org/api').describe('base URL (another sipwarden\'s publisher works too)'),
  set: z.enum(['sip', 'http', 'all']).default('sip').describe('v2: which APIBAN set to read'),
  interval: duration('5m').describe('how often to ask for new entries (APIBAN allows 11 requests per 2 minutes per key)'),
  timeout: duration('7d').describe('each entry is dropped for this long in the kernel, renewed when APIBAN lists it again'),
});

const listFeed = z
  .strictObject({
    id: feedId,
    type: z.literal('list'),
    url: httpUrl.optional().describe('a plain list: one IPv4/IPv6 address or prefix per line, # comments (VoIPBL format)'),
    path: z.string().min(1).optional().describe('the same format from a local file'),
    interval: duration('4h').describe('how often the list is read again and swapped in atomically'),
  })
  .refine((f) => (f.url === undefined) !== (f.path === undefined), { message: 'a list feed needs exactly one of url and path' });

const feed = z.discriminatedUnion('type', [apibanFeed, listFeed]);

const publishKey = z.strictObject({
  key: z.string().min(16).max(200).describe('the key clients put in the URL (v1) or send as a bearer token (v2); write ${PUBLISH_KEY}'),
  name: name.optional().describe('who uses the key, for logs'),
  rules: z.array(name).min(1).optional().describe('only decisions of these rules (default: every rule; manual bans are never published)'),
  evidence: z.enum(['any', 'verified']).default('verified').describe('verified: only bans whose evidence proves the source'),
  minHits: z.number().int().min(1).default(1).describe('only bans made on at least this many events'),
});

export const DEFAULT_RULES: Record<string, z.input<typeof rule>> = {
  bruteforce: { on: ['auth-failure', 'unknown-account', 'acl-denied'], key: 'ip', threshold: 5, window: '1m', ban: '1h' },
  enumeration: { on: ['unknown-account'], key: 'ip', distinct: 'account', threshold: 3, window: '5m', ban: '24h' },
  'dialplan-probe': { on: ['dialplan-miss'], key: 'ip', threshold: 3, window: '10m', ban: '24h' },
  scanner: { on: ['scanner'], key: 'ip', threshold: 1, window: '1m', ban: '7d' },
  flood: { on: ['flood'], key: 'ip', threshold: 1, window: '1m', ban: '1h' },
  'invite-spray': { on: ['call-start'], key: 'ip', distinct: 'destination', threshold: 10, window: '1m', ban: '24h' },
  // The bait lets an attacker in and records what it does; the ban comes once it has shown its hand: a bait
  // registration or a dialled number, proven by a challenge round trip.
  honeypot: { on: ['auth-success', 'dialplan-miss'], servers: ['honeypot'], key: 'ip', threshold: 1, window: '1m', ban: '7d', evidence: 'verified' },
};

const DEFAULT_SQLITE_PATH = '/var/lib/sipwarden/sipwarden.db';
const DEFAULT_SPOOL_PATH = '/var/lib/sipwarden/fleet-spool.ndjson';

export const configSchema = z.strictObject({
  node: name.optional().describe('this node\'s name in decisions and events; default: the host name'),
  timezone: timezone.default('local').describe('zone of log timestamps that carry none'),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') }).prefault({}),
  store: z
    .strictObject({
      sqlite: z.string().min(1).optional().describe(`SQLite file, for one node; default ${DEFAULT_SQLITE_PATH} unless postgres is given`),
      postgres: z
        .string()
        .regex(/^postgres(?:ql)?:\/\/\S+$/, 'expected a URL such as postgres://sipwarden:${PG_PASSWORD}@db1:5432/sipwarden')
        .optional()
        .describe('PostgreSQL URL for fleet mode, instead of sqlite; put the password in an environment variable'),
      spool: z
        .string()
        .min(1)
        .default(DEFAULT_SPOOL_PATH)
        .describe('fleet mode: where decisions, audit and known-good pairs wait while PostgreSQL is down (replayed when it is back)'),
      retention: z
        .strictObject({
          maxAge: duration('30d'),
          maxEvents: z.number().int().min(1000).default(5_000_000),
        })
        .prefault({}),
    })
    .refine((store) => store.sqlite === undefined || store.postgres === undefined, {
      path: ['postgres'],
      message: 'expected one store: store.sqlite or store.postgres, not both',
    })
    // `sqlite` always comes out as a path (the default unless given), so one-node readers need no check;
    // openStore uses postgres whenever it is set.
    .transform(({ sqlite, ...store }) => ({ ...store, sqlite: sqlite ?? DEFAULT_SQLITE_PATH }))
    .prefault({}),
  sources: z.array(source).default([]),
  formats: z.record(name, customFormat).default({}),
  allow: z.array(addressEntry).default(['127.0.0.0/8', '::1']).describe('never banned'),
  trunks: z.array(addressEntry).default([]).describe('trunks and customers: never banned on spoofable evidence'),
  rules: z.record(name, rule).prefault(() => structuredClone(DEFAULT_RULES)),
  escalation: z
    .strictObject({
      factor: z.number().min(1).max(100).default(2),
      max: duration('30d'),
      window: duration('30d').describe('earlier bans of the same address inside this window raise the level'),
    })
    .prefault({}),
  'known-good': z.strictObject({ remember: duration('30d') }).prefault({}),
  wire: z
    .strictObject({
      flood: z
        .strictObject({
          rate: z.number().int().min(1).max(1_000_000).default(50).describe('SIP requests per second from one source before it is a flood'),
          cooldown: duration('10s').describe('at most one flood event per source in this period'),
        })
        .prefault({}),
      scanners: z
        .array(z.string().min(3).max(64))
        .default([])
        .describe('more User-Agent substrings (case-insensitive) that mark a scanner, besides the built-in list'),
      challengeTimeout: duration('8s').describe('a 401/407 never answered inside this period counts as a probe of that account'),
    })
    .prefault({})
    .describe('detectors that read SIP messages (HEP, honeypot)'),
  fraud: z
    .strictObject({
      homeCountry: country().describe('the country the PBX dials from; its calls are tier T1 (domestic)'),
      outsideLine: z.array(dialPrefix).default([]).describe('digits dialled for an outside line, e.g. ["9"]'),
      internationalPrefixes: z
        .array(dialPrefix)
        .min(1)
        .optional()
        .describe('replaces the default: the home country\'s international prefix from libphonenumber, plus "00" and "011"'),
      allowedCountries: z.array(country()).default([]).describe('countries whose calls are tier T2 (allowed international), not T3'),
      highRiskCountries: z.array(country()).default([]).describe('countries whose calls are always tier T4 (high risk)'),
      extensionDigits: z.number().int().min(0).max(15).default(6).describe('digit strings this short are internal extensions'),
      domesticPremium: z
        .enum(['T3', 'T4'])
        .default('T4')
        .describe('tier of the home country\'s premium-rate and shared-cost numbers; T3 where service numbers are typed premium (UK 084x/087x)'),
      hotlist: z
        .array(z.string().min(1))
        .default([])
        .describe('numbers attackers test (always tier T4), besides the honeypot\'s: E.164 or digits, or file:/path with one per line'),
      ignoreAccounts: z
        .array(z.string().min(1))
        .default([])
        .describe('accounts whose calls are not judged, e.g. the endpoints of your trunks (their inbound calls)'),
      actions: z
        .strictObject({
          mode: z.enum(['monitor', 'enforce']).default('monitor').describe('monitor: record what would be done; enforce: do it'),
          deny: duration('1h').describe('after a critical incident, deny the account\'s T3/T4 calls (call authorisation) this long'),
          ban: duration('12h').describe('after a critical incident, ban the source address that registered the account anew this long (0: never)'),
          hangup: z.boolean().default(true).describe('after a critical incident, hang up the account\'s live T3/T4 calls'),
          hangupCommand: z
            .strictObject({ path: z.string().min(1), args: z.array(z.string()).default([]) })
            .optional()
            .describe('hangs up a live call the source cannot (HEP, files): runs path [args...] <account> <call-id> <unique-id> <channel>, no shell'),
        })
        .prefault({}),
      rates: z
        .strictObject({
          currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR').default('EUR'),
          tiers: z
            .strictObject({
              T1: z.number().min(0).default(0.02),
              T2: z.number().min(0).default(0.1),
              T3: z.number().min(0).default(0.5),
              T4: z.number().min(0).default(3),
            })
            .prefault({})
            .describe('price per minute by destination tier, when no prefix below matches'),
          prefixes: z
            .array(z.strictObject({ prefix: z.string().regex(/^\+\d{1,15}$/, 'expected an E.164 prefix such as +882 or +44870'), perMinute: z.number().min(0) }))
            .default([])
            .describe('price per minute of E.164 prefixes; the longest matching prefix wins'),
        })
        .prefault({})
        .describe('what a minute costs, for the estimated cost of an incident'),
      authorize: z
        .strictObject({
          listen: hostPort.default('127.0.0.1:8089').describe('where the call-authorisation endpoint listens (HTTP)'),
          token: z.string().min(16).describe('bearer token the dialplan sends; use ${AUTHZ_TOKEN}'),
          failMode: z.enum(['open', 'closed']).default('open').describe('the answer when sipwarden is overloaded: open allows, closed denies'),
          maxLag: duration('20ms').describe('event-loop delay past which sipwarden counts as overloaded'),
        })
        .optional()
        .describe('HTTP endpoint a dialplan asks before dialling out: allow or deny, with a reason'),
    })
    .optional()
    .describe('toll-fraud detection: how dialled numbers are read and which destinations are risky'),
  geo: z
    .strictObject({
      country: z
        .string()
        .min(1)
        .optional()
        .describe('country database: a MaxMind DB (.mmdb: GeoLite2-Country/City, DB-IP country/city lite) or a CSV range file start,end,country (DB-IP lite / IP2Location lite layout)'),
      asn: z
        .string()
        .min(1)
        .optional()
        .describe('ASN database: a MaxMind DB (.mmdb: GeoLite2-ASN, DB-IP ASN lite, IPtoASN converted) or a CSV range file start,end,asn,organisation'),
    })
    .optional()
    .describe('local geo/ASN databases (MaxMind .mmdb or CSV ranges, told apart by content); nothing is looked up over the network'),
  feeds: z
    .array(feed)
    .default([])
    .describe('blocklists dropped in the kernel in sets of their own: APIBAN (v1 or v2) and plain lists of addresses and prefixes'),
  publish: z
    .strictObject({
      keys: z.array(publishKey).min(1).describe('who may read the feed, each with its own filters'),
    })
    .optional()
    .describe('serve our own decisions as an APIBAN-compatible feed (/api/{key}/banned/{id}, /api/{key}/check/{ip}, POST /api/get) and a plain list, on the api listener'),
  api: z
    .strictObject({
      listen: hostPort.default('127.0.0.1:8088').describe('where the HTTP API and the web console listen; loopback unless a TLS proxy is in front'),
      console: z.boolean().default(true).describe('serve the web console at /'),
      sessionTtl: duration('12h').describe('how long a console login lasts'),
      trustProxy: z.boolean().default(false).describe('take the client address from X-Forwarded-For (behind a reverse proxy only)'),
      failedAuth: z
        .strictObject({
          max: z.number().int().min(1).max(10_000).default(10),
          per: duration('1m'),
        })
        .prefault({})
        .describe('failed token attempts from one address before it is locked out for the period'),
    })
    .optional()
    .describe('HTTP API (bearer tokens: sipwarden token create) and web console'),
  alerts: alertsConfigSchema.optional(),
  budget: z
    .strictObject({
      spoofable: z
        .strictObject({ max: z.number().int().min(0).default(100), per: duration('1m') })
        .prefault({})
        .describe('at most max bans on spoofable evidence per period; past it, findings are reported, not banned'),
    })
    .prefault({}),
  scope: z
    .strictObject({
      ipv4: z.number().int().min(8).max(32).default(32),
      ipv6: z.number().int().min(16).max(128).default(128),
    })
    .prefault({})
    .describe('prefix length banned for one offending address'),
  enforce: z
    .strictObject({
      backend: z
        .enum(['nftables', 'ipset', 'iptables', 'command', 'dry-run'])
        .default('nftables')
        .describe('nftables (default); ipset with iptables; plain iptables (linear, last resort); command hook; dry-run'),
      scope: z.enum(['all-ports', 'sip-ports']).default('all-ports').describe('drop everything from a banned source, or only SIP'),
      sipPorts: z.array(z.number().int().min(1).max(65535)).min(1).default([5060, 5061]),
      table: name.default('sipwarden').describe('nftables: the table sipwarden owns (family inet)'),
      forward: z.boolean().default(false).describe('ipset/iptables: also drop banned sources in FORWARD'),
      command: z
        .strictObject({ path: z.string().min(1), args: z.array(z.string()).default([]) })
        .optional()
        .describe('command backend: runs path [args...] ban|unban <ip> <seconds>'),
      guard: z
        .strictObject({
          enabled: z.boolean().default(false),
          methods: z.array(z.enum(['REGISTER', 'INVITE', 'OPTIONS', 'SUBSCRIBE', 'MESSAGE', 'NOTIFY'])).min(1).default(['REGISTER', 'INVITE']),
          rate: z.number().int().min(1).default(20).describe('requests per second per source'),
          burst: z.number().int().min(1).default(40),
          ban: duration('10m'),
        })
        .prefault({})
        .describe('nftables: kernel rate limit per source on SIP methods; offenders go to a ban set'),
      dryRun: z.boolean().default(false).describe('record decisions without enforcing any of them'),
      journal: z.string().min(1).optional().describe('dry-run: append what would be done to this NDJSON file'),
    })
    .prefault({})
    .refine((e) => e.backend !== 'command' || e.command !== undefined, { message: 'backend command needs enforce.command.path' }),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type RuleConfig = z.output<typeof rule>;
export type FileSourceConfig = z.output<typeof fileSource>;
export type AmiSourceConfig = z.output<typeof amiSource>;
export type EslSourceConfig = z.output<typeof eslSource>;
export type SyslogSourceConfig = z.output<typeof syslogSource>;
export type JournaldSourceConfig = z.output<typeof journaldSource>;
export type HepSourceConfig = z.output<typeof hepSource>;
export type HoneypotSourceConfig = z.output<typeof honeypotSource>;
export type CustomFormatConfig = z.output<typeof customFormat>;
export type FeedConfig = z.output<typeof feed>;
export type ApibanFeedConfig = z.output<typeof apibanFeed>;
export type ListFeedConfig = z.output<typeof listFeed>;
export type PublishKeyConfig = z.output<typeof publishKey>;

export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
