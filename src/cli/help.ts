import type { Command } from 'commander';

/**
 * The manual of every command, shown after commander's usage and options by `sipwarden <command> --help`, in
 * the sections of a man page. Kept apart from main.ts so the command table there stays readable.
 */
interface Manual {
  description: string[];
  examples: [invocation: string, what: string][];
  /** Codes besides the common ones (EXIT_COMMON), or a different meaning for 1. */
  exit?: [code: string, meaning: string][];
  files?: [path: string, what: string][];
  environment?: [name: string, what: string][];
}

/** Commander wraps its own part at 80 columns when the output is not a terminal; the manual follows it. */
const WIDTH = 80;
const CONFIG_FILE: [string, string] = ['/etc/sipwarden/sipwarden.yaml', 'the config, unless --config or $SIPWARDEN_CONFIG names another'];
const STORE_FILE: [string, string] = ['/var/lib/sipwarden/sipwarden.db', 'the SQLite store (store.sqlite in the config); fleets use PostgreSQL instead'];
const CONFIG_ENV: [string, string][] = [
  ['SIPWARDEN_CONFIG', 'the config file when --config is not given'],
  ['${NAME} in the config', 'replaced by the environment variable NAME (secrets such as ${AMI_SECRET})'],
];
const ACTOR_ENV: [string, string] = ['SUDO_USER', 'the user recorded as actor in the audit trail when --actor is not given'];
const CONFIG_ONLY = { files: [CONFIG_FILE], environment: CONFIG_ENV };
const WITH_STORE = { files: [CONFIG_FILE, STORE_FILE], environment: CONFIG_ENV };

const EXIT_COMMON: [string, string][] = [
  ['0', 'success'],
  ['1', 'the command line is wrong (an unknown option, a missing argument)'],
  ['2', 'it failed: standard error says why, with an SW_ERR_ code (a bad config or address, an unreachable store)'],
];

const MANUALS: Record<string, Manual> = {
  '': {
    description: [
      'sipwarden reads the logs and signalling of SIP servers (Asterisk, FreeSWITCH, Kamailio, OpenSIPS, any server through HEP or syslog), finds brute force, scanners, enumeration and toll fraud, and bans the sources in kernel sets (nftables, ipset) with in-kernel timeouts. Every decision keeps its evidence, so `sipwarden why` can say in one screen why an address or account is blocked.',
      'Run `sipwarden <command> --help` for the manual of a command.',
    ],
    examples: [
      ['sipwarden install', 'place the systemd unit and the example config'],
      ['sipwarden test --config /etc/sipwarden/sipwarden.yaml /var/log/asterisk/messages', 'what the rules would ban in an existing log'],
      ['sipwarden why 203.0.113.7', 'why an address is banned, and how to undo it'],
    ],
    ...WITH_STORE,
  },
  run: {
    description: [
      'Runs the daemon: follows the configured sources, detects attacks, records events and decisions in the store and enforces bans until SIGINT or SIGTERM. Under systemd it runs from sipwarden.service; logs are JSON lines on standard output (journald). With an api: block it also serves the HTTP API and the web console.',
    ],
    examples: [
      ['sipwarden run --config /etc/sipwarden/sipwarden.yaml', 'in the foreground, as the unit does'],
      ['sipwarden run --config ./lab.yaml --from-start', 'read lab logs from their beginning'],
    ],
    exit: [['0', 'stopped by SIGINT or SIGTERM']],
    ...WITH_STORE,
  },
  parse: {
    description: [
      'Parses a log with one format and prints every event it recognises as one JSON object per line, with the address, account, kind and evidence class. Use it to see what sipwarden would read from a log, or to check a custom format, before any rule or ban is involved. Nothing is stored.',
    ],
    examples: [
      ['sipwarden parse --format asterisk /var/log/asterisk/messages', 'events of an Asterisk log'],
      ['journalctl -u kamailio -o cat | sipwarden parse -f kamailio', 'from standard input'],
      ['sipwarden parse -f my-sbc --config sipwarden.yaml sbc.log', 'a custom format of the config'],
    ],
    ...CONFIG_ONLY,
  },
  test: {
    description: [
      'Replays log files through the configured rules and policy and prints what would be banned, and why, without touching the store or the firewall. Use it to tune thresholds, and to check a new config against old attacks.',
    ],
    examples: [
      ['sipwarden test --config /etc/sipwarden/sipwarden.yaml /var/log/asterisk/messages', 'replay one log'],
      ['sipwarden test -c new.yaml -f asterisk-security old/security.1 old/security.2 --json', 'several rotated logs, as JSON'],
    ],
    ...CONFIG_ONLY,
  },
  why: {
    description: [
      'Tells the story of an address, a prefix or an account: its events, the rule that fired, every policy step, the ban and its expiry, the packets the kernel dropped, known-good logins, and the command that undoes it. The first thing to run for a ticket that says "customer X cannot connect".',
    ],
    examples: [
      ['sipwarden why 203.0.113.7', 'one address'],
      ['sipwarden why 2001:db8:1::/64', 'a prefix'],
      ['sipwarden why 1001 --json', 'an account, as JSON'],
    ],
    ...WITH_STORE,
  },
  list: {
    description: ['Lists the bans in force, newest first, with their rule or origin, expiry and reason.'],
    examples: [
      ['sipwarden list', 'a table'],
      ['sipwarden list --json | jq length', 'how many'],
    ],
    ...WITH_STORE,
  },
  ban: {
    description: [
      'Bans an address or a prefix by hand, for a time or for good, and records who did it and why in the audit trail. A running daemon enforces it within seconds; so does every node of a fleet.',
    ],
    examples: [
      ['sipwarden ban 198.51.100.23 --for 7d --reason "toll fraud attempt, ticket 4711"', 'a week'],
      ['sipwarden ban 203.0.113.0/24 --reason "scanner network"', 'a prefix, for good'],
    ],
    files: [CONFIG_FILE, STORE_FILE],
    environment: [...CONFIG_ENV, ACTOR_ENV],
  },
  unban: {
    description: [
      'Lifts every active ban on an address or prefix, or covering it, and records who did it and why. A running daemon removes the address from the kernel sets within seconds.',
    ],
    examples: [
      ['sipwarden unban 203.0.113.7 --reason "customer fixed the phone password"', 'one address'],
      ['sipwarden unban 203.0.113.0/24 --reason "office moved" --actor alice', 'a prefix, naming who'],
    ],
    exit: [['1', 'also: the target had no active ban']],
    files: [CONFIG_FILE, STORE_FILE],
    environment: [...CONFIG_ENV, ACTOR_ENV],
  },
  guard: {
    description: [
      "Prints the kernel flood guard as nftables text: per-source rate limits on REGISTER and INVITE that put offenders in sipwarden's ban set, with allowlisted addresses exempt. The daemon installs it when enforce.guard.enabled is true; print it to review it or load it by hand.",
    ],
    examples: [
      ['sipwarden guard', 'review the ruleset'],
      ['sipwarden guard --config lab.yaml | nft -c -f -', 'check it with nft'],
    ],
    ...CONFIG_ONLY,
  },
  stop: {
    description: [
      "Removes what sipwarden put in the kernel (its own nftables table, or its ipset sets and chain) and nothing else. Stop the daemon first: a running daemon restores its objects within seconds.",
    ],
    examples: [['systemctl stop sipwarden && sipwarden stop', 'take sipwarden out of the packet path']],
    ...CONFIG_ONLY,
  },
  doctor: {
    description: [
      'Checks the config, the store, every source (files readable, ports free, AMI and ESL logins), the firewall backend and the fraud settings, and says for each failure what to fix. Run it after each config change and when something does not work.',
    ],
    examples: [
      ['sipwarden doctor', 'the installed config'],
      ['sipwarden doctor --config new.yaml', 'a config before it goes live'],
    ],
    exit: [['1', 'also: at least one check failed']],
    ...WITH_STORE,
  },
  honeypot: {
    description: ['Commands for the SIP honeypot (sources of type honeypot), which records what scanners and fraudsters try.'],
    examples: [['sipwarden honeypot report', 'the last week']],
  },
  'honeypot report': {
    description: [
      'Summarises what the honeypot recorded: sources and their countries, tools, the accounts and passwords tried, and the numbers dialled (the hotlist toll fraud tests before it pumps).',
    ],
    examples: [
      ['sipwarden honeypot report', 'the last 7 days'],
      ['sipwarden honeypot report --since 24h --json', 'one day, as JSON'],
    ],
    ...WITH_STORE,
  },
  feeds: {
    description: ['Commands for the blocklist feeds of the config (feeds:): APIBAN, v1 or v2, and plain lists of addresses and prefixes such as VoIPBL. The daemon syncs each at its interval into a kernel set of its own; allowlisted entries are never loaded.'],
    examples: [['sipwarden feeds status', 'what each feed did last']],
  },
  'feeds status': {
    description: [
      "Shows each feed's last successful sync, the entries it has in the kernel, how many entries the allowlist overrode, and its last error with its age, as the daemon recorded them in the store. A feed taken out of the config is listed as removed.",
    ],
    examples: [
      ['sipwarden feeds status', 'a table'],
      ['sipwarden feeds status --json', 'as JSON, with the APIBAN cursor'],
    ],
    ...WITH_STORE,
  },
  'feeds sync': {
    description: [
      'Fetches the feeds now, in this process, and loads them into the same kernel sets the daemon uses (so it needs the same privileges), then stores their state: the APIBAN cursor advances only with what the kernel took. APIBAN is read from the stored cursor on, at most 10 pages per sync (its rate limit is 11 requests per 2 minutes per key); --full reads it from the start. With the dry-run backend the entries are only checked and counted.',
    ],
    examples: [
      ['sudo sipwarden feeds sync', 'every feed'],
      ['sudo sipwarden feeds sync --feed apiban --full', 'APIBAN from the start'],
    ],
    exit: [['1', 'also: a feed failed (the table says why)'], ['2', 'also: --feed names no configured feed']],
    ...WITH_STORE,
  },
  config: {
    description: ['Tools for the one YAML config file: validate it, and print its JSON Schema for editors.'],
    examples: [['sipwarden config check', 'validate the installed config']],
  },
  'config check': {
    description: [
      'Validates a config file against the schema. Every error names its path, the value and what was expected; nothing is started and nothing is written.',
    ],
    examples: [
      ['sipwarden config check --config /etc/sipwarden/sipwarden.yaml', 'before a restart'],
      ['SIPWARDEN_CONFIG=new.yaml sipwarden config check', 'through the environment'],
    ],
    ...CONFIG_ONLY,
  },
  'config schema': {
    description: ['Prints the JSON Schema of the config, for editors that validate YAML while you type.'],
    examples: [['sipwarden config schema > sipwarden.schema.json', 'save it']],
  },
  token: {
    description: ['Manages the bearer tokens of the HTTP API and the web console: viewer reads, operator also bans and unbans, admin also manages tokens.'],
    examples: [['sipwarden token create --role admin --name me', 'the first token']],
  },
  'token create': {
    description: [
      'Creates a token with a role and prints it once: only its SHA-256 is stored, so keep it. Use it as `Authorization: Bearer <token>`, or paste it into the console login.',
    ],
    examples: [
      ['sipwarden token create --role admin --name me', 'for yourself'],
      ['sipwarden token create --role viewer --name prometheus', 'for a scraper of /metrics'],
      ['sipwarden token create --role operator --name helpdesk --json', 'as JSON, for a script'],
    ],
    files: [CONFIG_FILE, STORE_FILE],
    environment: [...CONFIG_ENV, ACTOR_ENV],
  },
  'token list': {
    description: ['Lists the tokens (never their values): id, name, role, when created, last used and revoked.'],
    examples: [
      ['sipwarden token list', 'a table'],
      ['sipwarden token list --json', 'as JSON'],
    ],
    ...WITH_STORE,
  },
  'token revoke': {
    description: ['Revokes a token by its id (from `sipwarden token list`); requests with it fail from then on.'],
    examples: [['sipwarden token revoke 3', 'token 3']],
    exit: [['2', 'also: no token has that id']],
    files: [CONFIG_FILE, STORE_FILE],
    environment: [...CONFIG_ENV, ACTOR_ENV],
  },
  allow: {
    description: [
      "Manages the allowlist kept in the store. Every daemon using the store (every node of a fleet on PostgreSQL) loads it within 2 s into its policy and its kernel allow sets: an allowlisted address is never banned and never dropped by a feed or the flood guard. The config's allow: entries stay as they are and are edited in the config.",
    ],
    examples: [['sipwarden allow add 198.51.100.0/24 --reason "customer ACME, ticket 4711"', 'a customer network, on every node']],
  },
  'allow add': {
    description: ['Adds an address or prefix to the shared allowlist (or replaces the reason of one already there), and audits it.'],
    examples: [
      ['sipwarden allow add 192.0.2.7 --reason "SIP trunk of carrier X"', 'one address'],
      ['sipwarden allow add 2001:db8:42::/48 --reason "HQ" --config /etc/sipwarden/pbx2.yaml', 'an IPv6 prefix, another config'],
    ],
    files: [CONFIG_FILE, STORE_FILE],
    environment: [...CONFIG_ENV, ACTOR_ENV],
  },
  'allow remove': {
    description: ['Removes an entry from the shared allowlist, and audits it. Entries of the config are edited in the config.'],
    examples: [['sipwarden allow remove 192.0.2.7 --reason "trunk moved"', 'one entry']],
    exit: [['1', 'also: the entry is not in the shared allowlist']],
    files: [CONFIG_FILE, STORE_FILE],
    environment: [...CONFIG_ENV, ACTOR_ENV],
  },
  'allow list': {
    description: ["Lists the config's allow: entries and the shared ones, with who added each and why."],
    examples: [
      ['sipwarden allow list', 'a table'],
      ['sipwarden allow list --json', 'as JSON'],
    ],
    ...WITH_STORE,
  },
  api: {
    description: ['Tools for the HTTP API that `sipwarden run` serves when the config has an api: block.'],
    examples: [['sipwarden api openapi', 'the OpenAPI document']],
  },
  'api openapi': {
    description: ['Prints the OpenAPI 3.1 document of the HTTP API (also served at /api/v1/openapi.json), for clients and API browsers.'],
    examples: [['sipwarden api openapi > sipwarden-openapi.json', 'save it']],
  },
  install: {
    description: [
      'Installs sipwarden as a systemd service: writes sipwarden.service (hardened, with ExecStart on this installation\'s bin/sipwarden) to /etc/systemd/system, the example config to /etc/sipwarden/sipwarden.yaml unless a config is there already, and creates /var/lib/sipwarden (mode 0750). It is safe to run again: an existing config is never replaced, an existing unit only with --force. On the live system (--root /) it runs `systemctl daemon-reload`, then prints the next steps.',
    ],
    examples: [
      ['sudo sipwarden install', 'on this host'],
      ['sipwarden install --dry-run', 'show what it would do'],
      ['sipwarden install --root /tmp/image --no-reload', 'into an image or a package build'],
    ],
    files: [
      ['/etc/systemd/system/sipwarden.service', 'the unit (local changes belong in `systemctl edit sipwarden`)'],
      ['/etc/sipwarden/sipwarden.yaml', 'the config, copied from examples/sipwarden.yaml only when absent'],
      ['/var/lib/sipwarden', 'the state directory (the store)'],
    ],
  },
};

function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, indent + line].join('\n');
}

/** A short term (an exit code) shares its line with the text, as in man pages; a long one stands above it. */
function pairs(list: readonly [string, string][]): string {
  return list.map(([term, text]) => (term.length <= 4 ? wrap(text, '      ').replace(/^ {6}/, `  ${term.padEnd(4)}`) : `  ${term}\n${wrap(text, '      ')}`)).join('\n');
}

function formatManual(manual: Manual): string {
  const exit = new Map(EXIT_COMMON);
  for (const [code, meaning] of manual.exit ?? []) exit.set(code, meaning.startsWith('also: ') ? `${meaning.slice(6)}; or ${exit.get(code)}` : meaning);
  const sections = [
    `DESCRIPTION\n${manual.description.map((p) => wrap(p, '  ')).join('\n\n')}`,
    `EXAMPLES\n${pairs(manual.examples)}`,
    `EXIT STATUS\n${pairs([...exit].sort(([a], [b]) => a.localeCompare(b)))}`,
  ];
  if (manual.files) sections.push(`FILES\n${pairs(manual.files)}`);
  if (manual.environment) sections.push(`ENVIRONMENT\n${pairs(manual.environment)}`);
  return `\n${sections.join('\n\n')}\n`;
}

/** Adds the manual after the usage of `program` and of each of its commands, at every depth. */
export function addManuals(program: Command): void {
  const visit = (command: Command, path: string): void => {
    const manual = MANUALS[path];
    if (manual) command.addHelpText('after', formatManual(manual));
    for (const sub of command.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  visit(program, '');
}
