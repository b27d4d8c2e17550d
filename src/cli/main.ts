import { Command, Option } from 'commander';
import { describeError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { addManuals } from './help.js';

// Each command loads its own modules when it runs: start-up time is part of every CLI call, and `test`
// must not pay for the SQLite driver, the logger or the daemon.
const decisions = () => import('./commands/decisions.js');
const context = () => import('./context.js');
const tokens = () => import('./commands/token.js');

const program = new Command()
  .name('sipwarden')
  .description('Intrusion prevention and toll-fraud detection for SIP/VoIP servers')
  .version(VERSION)
  .showHelpAfterError();

const configOption = ['-c, --config <file>', 'config file (default: $SIPWARDEN_CONFIG or /etc/sipwarden/sipwarden.yaml)'] as const;

program.command('run').description('run the daemon')
  .option(...configOption)
  .option('--from-start', 'read log files from their beginning when no position is saved')
  .action(async (o) => (await import('./commands/run.js')).runCommand(o));

program.command('parse').description('print one JSON object per recognised event (NDJSON)')
  .argument('[file]', 'log file; standard input when omitted or -')
  .requiredOption('-f, --format <format>', 'asterisk, asterisk-security, freeswitch, kamailio, opensips, or a custom format of --config')
  .option(...configOption)
  .option('--timezone <zone>', 'zone of the log timestamps (default: config timezone, else local)')
  .action(async (file, o) => (await import('./commands/parse.js')).parseCommand(file, o));

program.command('test').description('replay logs through rules and policy: what would be banned, and why')
  .argument('<logfile...>')
  .option(...configOption)
  .option('-f, --format <format>', 'format of the log files (default: from the config source with that path)')
  .option('--timezone <zone>', 'zone of the log timestamps')
  .option('--json', 'print one JSON object')
  .action(async (files, o) => (await import('./commands/test.js')).testCommand(files, o));

program.command('why').description('explain an address, prefix or account: events, rule, policy path, ban, undo')
  .argument('<target>', 'IP address, prefix, or account name')
  .option(...configOption)
  .option('--json', 'print one JSON object')
  .action(async (target, o) => (await import('./commands/why.js')).whyCommand(target, o));

program.command('list').description('list active bans')
  .option(...configOption)
  .option('--json', 'print JSON')
  .action(async (o) => (await decisions()).listCommand(o));

program.command('ban').description('ban an address or prefix by hand (audited)')
  .argument('<target>', 'IP address or prefix')
  .option(...configOption)
  .option('--for <duration>', 'ban length, e.g. 1h, 7d (default: permanent)')
  .requiredOption('--reason <text>', 'why (goes into the audit trail)')
  .option('--actor <name>', 'who (default: the invoking user@host)')
  .action(async (target, o) => (await decisions()).banCommand(target, o));

program.command('unban').description('lift the bans on an address or prefix (audited)')
  .argument('<target>', 'IP address or prefix')
  .option(...configOption)
  .requiredOption('--reason <text>', 'why (goes into the audit trail)')
  .option('--actor <name>', 'who (default: the invoking user@host)')
  .action(async (target, o) => (await decisions()).unbanCommand(target, o));

program.command('guard').description('print the kernel flood-guard ruleset (nftables)')
  .option(...configOption)
  .action(async (o) => (await import('./commands/firewall.js')).guardCommand(o));

program.command('stop').description("remove sipwarden's own firewall objects (and nothing else)")
  .option(...configOption)
  .action(async (o) => (await import('./commands/firewall.js')).stopCommand(o));

program.command('doctor').description('check the config, store, sources and firewall backend; say what to fix')
  .option(...configOption)
  .action(async (o) => (await import('./commands/doctor.js')).doctorCommand(o));

const honeypot = program.command('honeypot').description('the SIP honeypot (sources of type honeypot)');
honeypot.command('report').description('sources, countries, tools, accounts and passwords tried, numbers dialled')
  .option(...configOption)
  .option('--since <duration>', 'the period to report, e.g. 24h, 7d', '7d')
  .option('--json', 'print one JSON object')
  .action(async (o) => (await import('./commands/honeypot.js')).honeypotReportCommand(o));

const feeds = program.command('feeds').description('blocklist feeds (APIBAN, plain lists): their state, and a sync now');
feeds.command('status').description("each feed's last sync, entries, allowlist overrides and last error")
  .option(...configOption)
  .option('--json', 'print JSON')
  .action(async (o) => (await import('./commands/feeds.js')).feedsStatusCommand(o));
feeds.command('sync').description('fetch the feeds now and load them into their kernel sets')
  .option(...configOption)
  .option('--feed <id>', 'only this feed (default: every feed)')
  .option('--full', 'read APIBAN from the start instead of from the stored cursor')
  .option('--json', 'print the feeds\' states as JSON')
  .action(async (o) => (await import('./commands/feeds.js')).feedsSyncCommand(o));

const config = program.command('config').description('configuration tools');
config.command('check').description('validate a config file').option(...configOption).action(async (o: { config?: string }) => {
  const { configPath, requireConfig } = await context();
  await requireConfig(o.config);
  process.stdout.write(`${configPath(o.config)}: valid\n`);
});
config.command('schema').description('print the config JSON Schema').action(async () => {
  const { configJsonSchema } = await import('../config/schema.js');
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
});

const token = program.command('token').description('API and console tokens (viewer, operator, admin)');
token.command('create').description('create a token with a role; prints it once')
  .option(...configOption)
  .addOption(new Option('--role <role>', 'what it may do').choices(['viewer', 'operator', 'admin']).makeOptionMandatory())
  .requiredOption('--name <name>', 'who or what uses it (goes into the audit trail)')
  .option('--json', 'print {token, id, name, role} as JSON')
  .option('--actor <name>', 'who creates it (default: the invoking user@host)')
  .action(async (o) => (await tokens()).tokenCreateCommand(o));
token.command('list').description('list tokens (never their values)')
  .option(...configOption)
  .option('--json', 'print JSON')
  .action(async (o) => (await tokens()).tokenListCommand(o));
token.command('revoke').description('revoke a token')
  .argument('<id>', 'token id, from sipwarden token list')
  .option(...configOption)
  .option('--actor <name>', 'who revokes it (default: the invoking user@host)')
  .action(async (id, o) => (await tokens()).tokenRevokeCommand(id, o));

const allow = program.command('allow').description('the allowlist kept in the store, shared by every node of a fleet');
const allowCommands = () => import('./commands/allow.js');
allow.command('add').description('allowlist an address or prefix (audited)')
  .argument('<target>', 'IP address or prefix')
  .option(...configOption)
  .requiredOption('--reason <text>', 'why (goes into the audit trail)')
  .option('--actor <name>', 'who (default: the invoking user@host)')
  .action(async (target, o) => (await allowCommands()).allowAddCommand(target, o));
allow.command('remove').description('take an address or prefix off the shared allowlist (audited)')
  .argument('<target>', 'IP address or prefix, as added')
  .option(...configOption)
  .requiredOption('--reason <text>', 'why (goes into the audit trail)')
  .option('--actor <name>', 'who (default: the invoking user@host)')
  .action(async (target, o) => (await allowCommands()).allowRemoveCommand(target, o));
allow.command('list').description("the config's allowlist and the shared one")
  .option(...configOption)
  .option('--json', 'print JSON')
  .action(async (o) => (await allowCommands()).allowListCommand(o));

const api = program.command('api').description('HTTP API tools');
api.command('openapi').description('print the OpenAPI document of the HTTP API')
  .action(async () => (await import('./commands/api.js')).openapiCommand());

program.command('install').description('install the systemd unit, the example config and the state directory')
  .option('--root <dir>', 'install into this directory instead of /', '/')
  .option('--dry-run', 'print what would be done, write nothing')
  .option('--force', 'replace an existing unit file (never the config)')
  .option('--no-reload', 'do not run systemctl daemon-reload')
  .action(async (o) => (await import('./commands/install.js')).installCommand(o));

addManuals(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`sipwarden: ${describeError(error)}\n`);
  process.exitCode = 2;
});
