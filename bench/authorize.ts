import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Call authorisation under load: the real daemon (`sipwarden run`, fraud in enforce mode, the endpoint on
 * loopback) in its own process, asked at a fixed rate by autocannon from this one over keep-alive connections,
 * as PBXs would. The mix is what a dialplan asks: domestic, allowed-country and T3 calls (allow) and a
 * satellite number (deny, logged). Latency is measured twice: autocannon's histogram (whole milliseconds,
 * corrected for coordinated omission) and each response's own time in microseconds (not corrected).
 */
export interface AuthorizeLoadResult {
  rate: number;
  connections: number;
  seconds: number;
  sent: number;
  /** Milliseconds, from the per-response times. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** autocannon's own percentiles: whole ms, corrected for coordinated omission. */
  corrected: { p50: number; p99: number; p999: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  denied: number;
  overloaded: number;
}

interface AutocannonResult {
  latency: { p50: number; p99: number; p99_9: number };
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (options: Record<string, unknown>) => AutocannonInstance;

// autocannon ships no types; this is the part of its documented programmatic API the bench uses.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const TOKEN = 'bench-token-6a1f0c3e9d2b7a54';

export async function authorizeLoad(cli: string, options: { rate?: number; seconds?: number; connections?: number } = {}): Promise<AuthorizeLoadResult> {
  const rate = options.rate ?? 5000;
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? Number(process.env.BENCH_CONNECTIONS ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'sw-authz-bench-'));
  const config = join(dir, 'sipwarden.yaml');
  writeFileSync(config, [
    'node: bench',
    'timezone: UTC',
    `store: { sqlite: ${join(dir, 'sw.db')} }`,
    'fraud:',
    '  homeCountry: GB',
    '  allowedCountries: [IE]',
    '  actions: { mode: enforce }',
    '  authorize: { listen: "127.0.0.1:0", token: "${AUTHZ_TOKEN}", failMode: open }',
    'enforce: { backend: dry-run }',
    '',
  ].join('\n'));
  const daemon = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS ?? '--v8-pool-size=1').split(' ').filter(Boolean), cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AUTHZ_TOKEN: TOKEN } });
  try {
    const port = await listeningPort(daemon.stdout);
    const ask = (account: string, destination: string, ip: string): { method: string; path: string; onResponse: (status: number, body: string) => void } => ({
      method: 'GET',
      path: `/v1/authorize?account=${account}&destination=${destination}&ip=${ip}`,
      onResponse: (_status, body) => {
        if (body.includes('"deny"')) denied++;
        if (body.includes('"overloaded":true')) overloaded++;
      },
    });
    let denied = 0;
    let overloaded = 0;
    const times: number[] = [];
    const instance = autocannon({
      url: `http://127.0.0.1:${port}`,
      // At 5,000/s and well under a millisecond each, about two questions are in flight at once (Little's law);
      // ten connections cover that. autocannon paces each connection on its own timer, so many more connections
      // send in bursts and measure its own queueing: 50 give p99 4.5 ms against a trivial in-process handler.
      connections,
      overallRate: rate,
      duration: seconds,
      headers: { authorization: `Bearer ${TOKEN}` },
      requests: [
        ask('1001', '02079460000', '192.0.2.10:5060'),
        ask('1002', '0035312345678', '192.0.2.11:5060'),
        ask('1003', '0037167000123', '192.0.2.12:5060'),
        ask('1004', '00882161234567', '192.0.2.13:5060'),
      ],
    });
    instance.on('response', (_client, _status, _bytes, ms) => times.push(ms));
    const result = await instance;
    times.sort((a, b) => a - b);
    const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
    return {
      rate, connections, seconds, sent: result.requests.total, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: times[times.length - 1] ?? NaN,
      corrected: { p50: result.latency.p50, p99: result.latency.p99, p999: result.latency.p99_9 },
      errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, denied, overloaded,
    };
  } finally {
    daemon.kill('SIGTERM');
  }
}

/** The port from the daemon's `call authorisation listening` log line; its other lines are drained. */
function listeningPort(stdout: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let found = false;
    const timer = setTimeout(() => reject(new Error('the daemon did not start the authorisation endpoint within 15 s')), 15_000);
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      if (found) return;
      buffered += chunk;
      const match = /"port":(\d+)[^\n]*call authorisation listening/.exec(buffered);
      if (match) {
        found = true;
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    stdout.on('end', () => reject(new Error('the daemon exited before the authorisation endpoint listened')));
  });
}

export function formatAuthorizeLoad(r: AuthorizeLoadResult): string {
  const ms = (v: number): string => v.toFixed(3);
  return [
    `call authorisation over HTTP (real daemon, keep-alive, ${r.connections} connections), ${r.rate.toLocaleString('en-US')} req/s for ${r.seconds} s: ${r.sent.toLocaleString('en-US')} answered, ${r.denied.toLocaleString('en-US')} denied, ${r.overloaded} overloaded, errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}\n`,
    `  latency p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, p99.9 ${ms(r.p999)} ms, max ${ms(r.max)} ms; autocannon (whole ms, coordinated omission corrected) p50 ${r.corrected.p50}, p99 ${r.corrected.p99}, p99.9 ${r.corrected.p999}\n`,
    `  budget: p99 <= 2 ms at 5,000 req/s, no errors: ${r.p99 <= 2 && r.corrected.p99 <= 2 && r.errors === 0 && r.timeouts === 0 && r.non2xx === 0 ? 'MET' : 'NOT MET'}\n`,
  ].join('');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  process.stdout.write(formatAuthorizeLoad(await authorizeLoad(cli, { seconds: Number(process.env.BENCH_SECONDS ?? 10) })));
}
