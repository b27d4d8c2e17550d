import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/schema.js';
import { describeError } from '../../core/errors.js';
import { commandRunner, type CommandRunner } from '../../enforcers/exec.js';
import { openStore, requireConfig, storeLabel } from '../context.js';

export interface DoctorOptions {
  config?: string;
}

type Status = 'ok' | 'warn' | 'FAIL';
interface Check {
  status: Status;
  what: string;
  fix?: string;
}

async function tryRun(runner: CommandRunner, argv: string[], input?: string): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await runner.run(argv, input);
    return { ok: true, out: r.stdout };
  } catch (error) {
    return { ok: false, out: describeError(error) };
  }
}

/** nftables: binary, privileges, kernel support (checked with `nft -c`, which commits nothing), chains ahead of ours. */
async function checkNftables(config: Config, runner: CommandRunner): Promise<Check[]> {
  const checks: Check[] = [];
  const version = await tryRun(runner, ['nft', '--version']);
  if (!version.ok) return [{ status: 'FAIL', what: 'nft is not installed', fix: 'apt-get install nftables' }];
  checks.push({ status: 'ok', what: version.out.trim() });
  const tables = await tryRun(runner, ['nft', 'list', 'tables']);
  if (!tables.ok) return [...checks, { status: 'FAIL', what: `cannot read the ruleset: ${tables.out}`, fix: 'run as root or with CAP_NET_ADMIN' }];
  const probe = `table inet sipwarden_doctor {\n set s { type ipv4_addr; flags interval, timeout; counter; }\n chain c { type filter hook prerouting priority raw; policy accept; ip saddr @s drop; }\n}\n`;
  const support = await tryRun(runner, ['nft', '-c', '-f', '-'], probe);
  checks.push(support.ok
    ? { status: 'ok', what: 'kernel supports interval sets with timeouts and counters, and raw-priority prerouting chains' }
    : { status: 'FAIL', what: `kernel lacks what sipwarden needs: ${support.out}`, fix: 'a kernel with nf_tables set timeouts (Linux >= 5.x)' });
  const ours = tables.out.includes(`table inet ${config.enforce.table}`);
  checks.push(ours
    ? { status: 'ok', what: `table inet ${config.enforce.table} is installed` }
    : { status: 'warn', what: `table inet ${config.enforce.table} is not installed yet`, fix: 'start the daemon: it creates it' });
  const chains = await tryRun(runner, ['nft', '-j', 'list', 'chains']);
  if (chains.ok) {
    const list = (JSON.parse(chains.out) as { nftables: { chain?: { table: string; name: string; hook?: string; prio?: number; family: string } }[] }).nftables;
    for (const { chain } of list) {
      if (!chain?.hook || chain.table === config.enforce.table) continue;
      if (chain.hook === 'prerouting' && (chain.prio ?? 0) <= -300) {
        checks.push({ status: 'warn', what: `chain ${chain.family} ${chain.table} ${chain.name} hooks prerouting at priority ${chain.prio}, at or before sipwarden's`, fix: 'make sure it does not accept packets that sipwarden should drop' });
      }
    }
  }
  return checks;
}

async function checkBackend(config: Config, runner: CommandRunner): Promise<Check[]> {
  const { backend } = config.enforce;
  if (config.enforce.dryRun || backend === 'dry-run') return [{ status: 'warn', what: 'enforcement is dry-run: decisions are recorded, nothing is blocked' }];
  if (backend === 'nftables') return checkNftables(config, runner);
  if (backend === 'command') {
    const path = config.enforce.command?.path ?? '';
    try {
      accessSync(path, constants.X_OK);
      return [{ status: 'ok', what: `command hook ${path} is executable` }];
    } catch {
      return [{ status: 'FAIL', what: `command hook ${path} is not an executable file`, fix: 'fix enforce.command.path' }];
    }
  }
  const checks: Check[] = [];
  for (const tool of backend === 'ipset' ? ['ipset', 'iptables', 'ip6tables'] : ['iptables', 'ip6tables']) {
    const r = await tryRun(runner, [tool, '--version']);
    checks.push(r.ok ? { status: 'ok', what: r.out.trim().split('\n')[0] ?? tool } : { status: 'FAIL', what: `${tool} is not installed`, fix: `apt-get install ${tool === 'ip6tables' ? 'iptables' : tool}` });
  }
  const list = await tryRun(runner, ['iptables', '-S', 'INPUT']);
  if (!list.ok) checks.push({ status: 'FAIL', what: `cannot read iptables rules: ${list.out}`, fix: 'run as root or with CAP_NET_ADMIN' });
  if (backend === 'iptables') checks.push({ status: 'warn', what: 'plain iptables checks every packet against every ban (linear)', fix: 'use nftables or ipset beyond a few hundred bans' });
  return checks;
}

const PROBE_FIX: Record<string, string> = {
  ami: 'check host, port, username and secret in manager.conf (read = security) and that the AMI is enabled',
  esl: 'check host, port and password in event_socket.conf.xml and its apply-inbound-acl',
  syslog: 'if the daemon is running it already listens there; otherwise free the port or pick another',
};

async function checkSources(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  for (const source of config.sources) {
    if (source.type === 'file') {
      checks.push(checkFile(source));
      continue;
    }
    if (source.type === 'journald') {
      const [program = 'journalctl', ...args] = source.command;
      const r = await tryRun(commandRunner(), [program, ...args, '-n', '0', '--no-pager', ...source.units.flatMap((u) => ['-u', u])]);
      checks.push(r.ok
        ? { status: 'ok', what: `source ${source.id} (journald): the journal is readable for ${source.units.join(', ')}` }
        : { status: 'FAIL', what: `source ${source.id} (journald): ${r.out.replace(/^SW_ERR_\w+: /, '')}`, fix: 'install systemd (journalctl) and run as root or in the systemd-journal group' });
      continue;
    }
    if (source.type === 'hep' || source.type === 'honeypot') {
      const { probeListen } = await import('./probe.js');
      const result = await probeListen(source.listen);
      checks.push(result.ok
        ? { status: 'ok', what: `source ${source.id} (${source.type}): ${result.detail}` }
        : { status: 'warn', what: `source ${source.id} (${source.type}): ${result.detail}`, fix: source.type === 'honeypot'
          ? 'give the honeypot a spare address or port, never the one your PBX answers on'
          : 'if the daemon is running it already listens there; otherwise free the port or pick another' });
      continue;
    }
    if (source.type !== 'ami' && source.type !== 'esl' && source.type !== 'syslog') continue;
    const probe = await import('./probe.js');
    const result = source.type === 'ami' ? await probe.probeAmi(source) : source.type === 'esl' ? await probe.probeEsl(source) : await probe.probeSyslog(source);
    checks.push(result.ok
      ? { status: 'ok', what: `source ${source.id} (${source.type}): ${result.detail}` }
      : { status: source.type === 'syslog' ? 'warn' : 'FAIL', what: `source ${source.id} (${source.type}): ${result.detail}`, fix: PROBE_FIX[source.type] ?? '' });
  }
  return checks;
}

/** The toll-fraud detector: its geo files and the call-authorisation port. */
async function checkFraud(config: Config): Promise<Check[]> {
  const fraud = config.fraud;
  if (fraud === undefined) return [];
  const checks: Check[] = [{ status: 'ok', what: `toll fraud: home ${fraud.homeCountry}, actions ${fraud.actions.mode === 'monitor' ? 'monitor-only (nothing is done)' : 'enforced'}` }];
  if (fraud.authorize) {
    const { probeListen } = await import('./probe.js');
    const result = await probeListen([`tcp://${fraud.authorize.listen}`]);
    checks.push(result.ok
      ? { status: 'ok', what: `call authorisation: ${result.detail}` }
      : { status: 'warn', what: `call authorisation: ${result.detail}`, fix: 'if the daemon is running it already listens there; otherwise free the port or set fraud.authorize.listen' });
  }
  if (config.geo === undefined) {
    checks.push({ status: 'warn', what: 'toll fraud: no geo files, so new-country and new-network registrations (rule D) are judged by address only', fix: 'set geo.country and geo.asn (MaxMind .mmdb or CSV ranges)' });
  }
  return checks;
}

/** The API port, the console build, a token to log in with, and the alert channels. */
async function checkApiAndAlerts(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  if (config.api) {
    const { probeListen } = await import('./probe.js');
    const result = await probeListen([`tcp://${config.api.listen}`]);
    checks.push(result.ok
      ? { status: 'ok', what: `API: ${result.detail}` }
      : { status: 'warn', what: `API: ${result.detail}`, fix: 'if the daemon is running it already listens there; otherwise free the port or set api.listen' });
    const index = fileURLToPath(new URL('../../../web/index.html', import.meta.url));
    checks.push(existsSync(index)
      ? { status: 'ok', what: 'web console is built' }
      : { status: 'warn', what: 'web console is not built: the API runs without it', fix: 'npm run build' });
    try {
      const store = await openStore(config);
      const live = (await store.tokens()).filter((t) => t.revokedAt === undefined);
      await store.close();
      checks.push(live.length > 0
        ? { status: 'ok', what: `API tokens: ${live.length} (${[...new Set(live.map((t) => t.role))].join(', ')})` }
        : { status: 'warn', what: 'no API token: nobody can log in to the console', fix: 'sipwarden token create --role admin --name <you>' });
    } catch {
      // The store check above reports an unusable store.
    }
  }
  const email = config.alerts?.email;
  if (email) {
    const { EmailChannel } = await import('../../alerts/email.js');
    const channel = new EmailChannel(email, 10_000);
    try {
      await channel.verify();
      checks.push({ status: 'ok', what: `alerts: SMTP server ${email.smtp.host} accepts a connection${email.smtp.user ? ' and the login' : ''}` });
    } catch (error) {
      checks.push({ status: 'FAIL', what: `alerts: SMTP server ${email.smtp.host}: ${describeError(error)}`, fix: 'check alerts.email.smtp (host, port, secure, starttls, user, password)' });
    } finally {
      await channel.close();
    }
  }
  for (const [i, hook] of (config.alerts?.webhooks ?? []).entries()) {
    checks.push({ status: 'ok', what: `alerts: webhook[${i}] (${hook.format}) to ${new URL(hook.url).host}; not called by doctor` });
  }
  return checks;
}

function checkFile(source: Extract<Config['sources'][number], { type: 'file' }>): Check {
  try {
    accessSync(source.path, constants.R_OK);
    return statSync(source.path).isFile()
      ? { status: 'ok', what: `source ${source.id}: ${source.path} (${source.format}) is readable` }
      : { status: 'FAIL', what: `source ${source.id}: ${source.path} is not a regular file`, fix: 'point path at the log file' };
  } catch (error) {
    return { status: 'warn', what: `source ${source.id}: ${source.path} cannot be read now (${(error as NodeJS.ErrnoException).code})`, fix: 'the daemon waits for it to appear; check the path and permissions' };
  }
}

/** `sipwarden doctor`: checks the config, the store, the sources and the firewall backend, and says what to fix. */
export async function doctorCommand(options: DoctorOptions): Promise<void> {
  const checks: Check[] = [];
  const config = await requireConfig(options.config);
  checks.push({ status: 'ok', what: 'configuration is valid' });
  const label = await storeLabel(config);
  try {
    const store = await openStore(config);
    const bans = await store.activeBans(Date.now());
    await store.close();
    checks.push({ status: 'ok', what: `store ${label} opens (${bans.length} active bans)` });
  } catch (error) {
    const fix = config.store.postgres === undefined ? 'check the path and its directory permissions' : 'check store.postgres: host, port, database, user and password';
    checks.push({ status: 'FAIL', what: `store ${label}: ${describeError(error)}`, fix });
  }
  checks.push(...(await checkSources(config)));
  checks.push(...(await checkFraud(config)));
  checks.push(...(await checkApiAndAlerts(config)));
  checks.push(...(await checkBackend(config, commandRunner())));
  for (const check of checks) {
    process.stdout.write(`${check.status.padEnd(4)}  ${check.what}${check.fix ? `\n      fix: ${check.fix}` : ''}\n`);
  }
  if (checks.some((c) => c.status === 'FAIL')) process.exitCode = 1;
}
