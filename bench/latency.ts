import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns } from '../src/enforcers/testing/netns.js';

/**
 * Latency from a log line appended to the address being in the kernel ban set: the real daemon (nftables
 * backend) runs inside a namespace and follows a log; `nft monitor` in the same namespace stamps the moment
 * each element is added. One scanner line per trial (the scanner rule bans on one event).
 */
export async function logToKernelLatency(cli: string, trials = 200): Promise<{ p50: number; p99: number; max: number; trials: number }> {
  const ns = createNetns('sw-lat');
  const dir = mkdtempSync(join(tmpdir(), 'sw-lat-'));
  const log = join(dir, 'messages');
  writeFileSync(log, '');
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(config, [
    'timezone: UTC',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    `sources: [{ id: ast, type: file, path: ${log}, format: asterisk, startAt: start }]`,
    'budget: { spoofable: { max: 100000, per: 1m } }',
    'enforce: { backend: nftables }',
    'log: { level: warn }',
  ].join('\n'));
  const daemon = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--v8-pool-size=1', cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  const monitor = spawn('ip', ['netns', 'exec', ns.name, 'nft', 'monitor', 'elements'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen = new Map<string, number>();
  let buffered = '';
  monitor.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const now = performance.now();
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const m = /^add element inet sipwarden ban4 \{ ([0-9.]+)/.exec(line);
      if (m && !seen.has(m[1] as string)) seen.set(m[1] as string, now);
    }
  });
  const waitFor = async (probe: () => boolean, ms: number): Promise<boolean> => {
    const deadline = performance.now() + ms;
    while (performance.now() < deadline) {
      if (probe()) return true;
      await new Promise((r) => setTimeout(r, 1));
    }
    return false;
  };
  try {
    // The daemon is ready when its table exists.
    await waitFor(() => {
      try {
        ns.exec(['nft', 'list', 'table', 'inet', 'sipwarden']);
        return true;
      } catch {
        return false;
      }
    }, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const latencies: number[] = [];
    const stamp = (): string => new Date().toISOString().slice(0, 19).replace('T', ' ');
    for (let i = 0; i < trials; i++) {
      const ip = `198.18.${(i >> 8) & 255}.${(i & 255) + 1}`;
      const start = performance.now();
      appendFileSync(log, `[${stamp()}] WARNING[7][C-00000001] Ext. _.: Friendly Scanner from ${ip}\n`);
      if (!(await waitFor(() => seen.has(ip), 5000))) throw new Error(`trial ${i}: ${ip} never reached the kernel set`);
      latencies.push((seen.get(ip) as number) - start);
      await new Promise((r) => setTimeout(r, 5));
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
    return { p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] as number, trials };
  } finally {
    monitor.kill();
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.on('exit', r));
    ns.destroy();
  }
}
