import { appendFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../../src/core/testing/ports.js';
import { join } from 'node:path';
import { cli, startDaemon, tempDir, waitFor, type RunningDaemon } from '../helpers.js';

/** An attacker's User-Agent and user name, written by the SIP peer into the server's log: HTML that must stay text. */
export const HOSTILE_USER_AGENT = '<img src=x onerror=alert(1)>';
export const HOSTILE_ACCOUNT = '1001"><script>alert(2)</script>';

/** Kamailio's recommended script line (stderr form, so the event takes the time it is read). */
export function authFailed(ip: string, account: string, userAgent: string): string {
  return ` 1(29317) WARNING: <script>: sipwarden: auth-failed src=${ip} port=5060 proto=udp rc=-2 method=REGISTER user=[${account}] realm=[pbx.example.com] ua=[${userAgent}]\n`;
}

export function authOk(ip: string, account: string): string {
  return ` 1(29317) NOTICE: <script>: sipwarden: auth-ok src=${ip} port=5060 proto=udp method=REGISTER user=[${account}] realm=[pbx.example.com] ua=[Yealink SIP-T46S 66.86.0.15]\n`;
}

export { freePort };

function createToken(config: string, role: string, name: string): string {
  const created = cli(['token', 'create', '--role', role, '--name', name, '--config', config]);
  const token = created.stdout.trim().split('\n').pop()?.trim() ?? '';
  if (created.status !== 0 || token === '') throw new Error(`token create failed (${created.status}): ${created.stderr}`);
  return token;
}

export interface ConsoleDaemon {
  daemon: RunningDaemon;
  url: string;
  config: string;
  log: string;
  /** An operator token, as `sipwarden token create` printed it. */
  token: string;
  /** A viewer token: reads everything, changes nothing. */
  viewerToken: string;
  /** Appends lines to the Kamailio log the daemon tails. */
  attack(lines: string[]): void;
  /** Waits until the store has an active ban of `target` (through the CLI, not the API under test). */
  waitForBan(target: string): Promise<void>;
}

/**
 * A real `sipwarden run`: SQLite in a temp dir, a Kamailio log file source, the dry-run enforcer (no firewall is
 * touched) and the API on a free loopback port.
 */
export async function startConsoleDaemon(): Promise<ConsoleDaemon> {
  const dir = tempDir('sw-console-');
  const log = join(dir, 'kamailio.log');
  const config = join(dir, 'sipwarden.yaml');
  const port = await freePort();
  writeFileSync(log, '');
  writeFileSync(config, [
    'node: console',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    `sources: [{ id: kam, type: file, path: ${log}, format: kamailio, startAt: start }]`,
    'allow: [127.0.0.0/8, "::1"]',
    `enforce: { backend: dry-run, journal: ${join(dir, 'enforcer.ndjson')} }`,
    `api: { listen: "127.0.0.1:${port}" }`,
    '',
  ].join('\n'));
  const token = createToken(config, 'operator', 'console-test');
  const viewerToken = createToken(config, 'viewer', 'console-viewer');
  const daemon = startDaemon(config);
  await daemon.waitForLog(/source started/, 15_000);
  await daemon.waitForLog(/API and console listening/, 15_000);
  return {
    daemon,
    url: `http://127.0.0.1:${port}`,
    config,
    log,
    token,
    viewerToken,
    attack: (lines) => appendFileSync(log, lines.join('')),
    async waitForBan(target) {
      await waitFor(() => {
        const list = cli(['list', '--json', '--config', config]);
        return list.status === 0 && (JSON.parse(list.stdout) as { target: string }[]).some((d) => d.target === target);
      }, 15_000, `an active ban of ${target}`);
    },
  };
}
