import { Command } from 'commander';
import { configJsonSchema } from '../config/schema.js';
import { describeError } from '../core/errors.js';
import { banCommand, listCommand, unbanCommand } from './commands/decisions.js';
import { parseCommand } from './commands/parse.js';
import { runCommand } from './commands/run.js';
import { testCommand } from './commands/test.js';
import { whyCommand } from './commands/why.js';
import { configPath, requireConfig } from './context.js';

const program = new Command()
  .name('sipwarden')
  .description('Intrusion prevention and toll-fraud detection for SIP/VoIP servers')
  .version('0.1.0')
  .showHelpAfterError();

const configOption = ['-c, --config <file>', 'config file (default: $SIPWARDEN_CONFIG or /etc/sipwarden/sipwarden.yaml)'] as const;

program.command('run').description('run the daemon')
  .option(...configOption)
  .option('--from-start', 'read log files from their beginning when no position is saved')
  .action((o) => runCommand(o));

program.command('parse').description('print one JSON object per recognised event (NDJSON)')
  .argument('[file]', 'log file; standard input when omitted or -')
  .requiredOption('-f, --format <format>', 'asterisk, asterisk-security, freeswitch, kamailio, opensips, or a custom format of --config')
  .option(...configOption)
  .option('--timezone <zone>', 'zone of the log timestamps (default: config timezone, else local)')
  .action((file, o) => parseCommand(file, o));

program.command('test').description('replay logs through rules and policy: what would be banned, and why')
  .argument('<logfile...>')
  .option(...configOption)
  .option('-f, --format <format>', 'format of the log files (default: from the config source with that path)')
  .option('--timezone <zone>', 'zone of the log timestamps')
  .option('--json', 'print one JSON object')
  .action((files, o) => testCommand(files, o));

program.command('why').description('explain an address, prefix or account: events, rule, policy path, ban, undo')
  .argument('<target>', 'IP address, prefix, or account name')
  .option(...configOption)
  .option('--json', 'print one JSON object')
  .action((target, o) => whyCommand(target, o));

program.command('list').description('list active bans')
  .option(...configOption)
  .option('--json', 'print JSON')
  .action((o) => listCommand(o));

program.command('ban').description('ban an address or prefix by hand (audited)')
  .argument('<target>', 'IP address or prefix')
  .option(...configOption)
  .option('--for <duration>', 'ban length, e.g. 1h, 7d (default: permanent)')
  .requiredOption('--reason <text>', 'why (goes into the audit trail)')
  .option('--actor <name>', 'who (default: the invoking user@host)')
  .action((target, o) => banCommand(target, o));

program.command('unban').description('lift the bans on an address or prefix (audited)')
  .argument('<target>', 'IP address or prefix')
  .option(...configOption)
  .requiredOption('--reason <text>', 'why (goes into the audit trail)')
  .option('--actor <name>', 'who (default: the invoking user@host)')
  .action((target, o) => unbanCommand(target, o));

const config = program.command('config').description('configuration tools');
config.command('check').description('validate a config file').option(...configOption).action((o: { config?: string }) => {
  requireConfig(o.config);
  process.stdout.write(`${configPath(o.config)}: valid\n`);
});
config.command('schema').description('print the config JSON Schema').action(() => {
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
});

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`sipwarden: ${describeError(error)}\n`);
  process.exitCode = 2;
});
