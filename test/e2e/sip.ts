import type { Netns } from '../../src/enforcers/testing/netns.js';
import { runTool, startTool, type StartedTool, type ToolResult } from './run.js';

/**
 * One OPTIONS request from `from`, answered or not within `timeoutMs`. It runs as a tiny Node program inside the
 * sender's namespace (the test process itself cannot send from there). The User-Agent matches no scanner
 * pattern, so Kamailio answers it unless the firewall drops it: an answer proves the packet got through.
 */
const PROBE = `
import dgram from 'node:dgram';
const [host, port, from, timeoutMs] = process.argv.slice(1);
const socket = dgram.createSocket('udp4');
const callId = Math.random().toString(36).slice(2) + '@' + from;
const done = (status) => { process.stdout.write(JSON.stringify({ status }) + '\\n'); socket.close(); };
const timer = setTimeout(() => done(null), Number(timeoutMs));
socket.on('message', (message) => {
  const text = message.toString('latin1');
  if (!text.includes(callId)) return;
  clearTimeout(timer);
  done(Number(text.slice(8, 11)));
});
socket.bind(0, from, () => {
  const { port: local } = socket.address();
  const request = [
    'OPTIONS sip:' + host + ':' + port + ' SIP/2.0',
    'Via: SIP/2.0/UDP ' + from + ':' + local + ';branch=z9hG4bK' + callId.split('@')[0] + ';rport',
    'Max-Forwards: 70',
    'From: <sip:probe@' + from + '>;tag=' + local,
    'To: <sip:' + host + '>',
    'Call-ID: ' + callId,
    'CSeq: 1 OPTIONS',
    'User-Agent: sipwarden-e2e-probe',
    'Content-Length: 0', '', ''].join('\\r\\n');
  socket.send(request, Number(port), host);
});
`;

/** The status code of the answer to one OPTIONS from `from` (an address inside `ns`), or null if none came. */
export async function optionsProbe(ns: Netns, from: string, to: string, timeoutMs = 800): Promise<number | null> {
  const result = await runTool([...ns.prefix, process.execPath, '--input-type=module', '-e', PROBE, to, '5060', from, String(timeoutMs)], { timeoutMs: timeoutMs + 5000 });
  const line = result.stdout.trim();
  if (result.code !== 0 || !line) throw new Error(`probe from ${from} failed (${result.code}): ${result.stderr}`);
  return (JSON.parse(line) as { status: number | null }).status;
}

export interface SippRegistrations {
  /** Calls that ended with the 200 (right password). */
  successful: number;
  /** Calls that ended otherwise: a new 401 (wrong password), or no answer within the timeouts. */
  failed: number;
  runs: ToolResult[];
}

/**
 * SIPp REGISTERs with digest auth (test/fixtures/kamailio/register.xml) for `account` from `from` (an address in
 * `ns`), one call per password, in order: one password is a phone, a wordlist is a cracker. SIPp 3.6 takes
 * the password only from -ap, hence one short SIPp run per password. Exit code 0 means the call got its 200.
 */
export async function sippRegister(ns: Netns, options: {
  from: string; localPort: number; to: string; account: string; passwords: readonly string[]; userAgent: string; scenario: string; dir: string;
}): Promise<SippRegistrations> {
  const runs: ToolResult[] = [];
  for (const password of options.passwords) {
    runs.push(await runTool([
      ...ns.prefix, 'sipp', `${options.to}:5060`, '-sf', options.scenario,
      '-s', options.account, '-ap', password, '-set', 'ua', options.userAgent,
      '-i', options.from, '-p', String(options.localPort), '-m', '1',
      // No keyboard, and a bound run time: a REGISTER the firewall drops fails the call after 2 s, not never.
      '-nostdin', '-timeout', '4s', '-timeout_error', '-recv_timeout', '2000',
    ], { timeoutMs: 10_000, cwd: options.dir }));
  }
  const successful = runs.filter((r) => r.code === 0).length;
  return { successful, failed: runs.length - successful, runs };
}

/**
 * svwar (SIPVicious extension enumeration) from `from`. Its User-Agent is the hard-coded "friendly-scanner",
 * which Kamailio logs and drops, so it gets no answer: --maximumtime bounds how long it waits for one.
 */
export function svwar(ns: Netns, options: { from: string; to: string; extensions: string; dir: string }): Promise<ToolResult> {
  return runTool([
    ...ns.prefix, 'svwar', '-b', options.from, '-e', options.extensions, '--force', '--maximumtime=2', '-p', '5060', options.to,
  ], { timeoutMs: 8000, cwd: options.dir, env: { HOME: options.dir } });
}

/**
 * svcrack (SIPVicious password cracker) against `to`, started in the background inside `ns`. svcrack 0.3.3 has
 * no usable bind option (it ignores -b), so the kernel picks its source: `ns` must hold a single address. It
 * first sends one REGISTER without credentials and waits (a fixed 10 s socket timeout, not --maximumtime) for
 * the 401 that would start the guessing; its User-Agent is the hard-coded "friendly-scanner", which Kamailio
 * logs and drops, so that answer never comes. The caller ends it as soon as it has seen what it needs, and
 * `timeoutMs` bounds it in any case.
 */
export function startSvcrack(ns: Netns, options: { account: string; wordlist: string; to: string; dir: string; timeoutMs: number }): StartedTool & { argv: readonly string[] } {
  const argv = ['svcrack', '-u', options.account, '-d', options.wordlist, '-p', '5060', options.to];
  return { ...startTool([...ns.prefix, ...argv], { timeoutMs: options.timeoutMs, cwd: options.dir, env: { HOME: options.dir } }), argv };
}
