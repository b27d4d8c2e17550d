import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createParser } from '../src/parsers/index.js';
import { createSyslogListener } from '../src/sources/syslog/listener.js';
import { lineFor, routeFormat, type SyslogRoute } from '../src/sources/syslog/route.js';

export interface SyslogLoadResult {
  /** Messages the sender handed to the kernel (UDP: datagrams sent without error; TCP: bytes flushed). */
  sent: number;
  /** Messages the listener delivered to the consumer by the end of the drain. */
  received: number;
  /** Kamailio events the parser yielded from the received messages. */
  parsedEvents: number;
  /** sent - received. */
  lost: number;
  /** UDP only: growth of the kernel's Udp InErrors (which include RcvbufErrors) over the run, whole network namespace. */
  kernelUdpDrops?: number;
  /** CPU (user + system) of this process, which runs the listener and the parser, over the run. */
  cpuSeconds: number;
  /** Wall-clock seconds from binding to the end of the drain. */
  seconds: number;
}

const LOOPBACK = '127.0.0.1';
/** Time between two bursts of the sender. */
const BURST_MS = 5;
/** After the sender exits, the run ends once nothing new arrived for QUIET_MS, or at DRAIN_MAX_MS. */
const QUIET_MS = 250;
const DRAIN_MAX_MS = 3_000;
/** The sender is killed when it has not finished this long after its deadline. */
const SENDER_GRACE_MS = 30_000;

/** The kernel's UDP error counters (`Udp:` lines of /proc/net/snmp), or undefined where they cannot be read. */
function udpErrors(): { inErrors: number; rcvbufErrors: number } | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const inErrors = Number(values[names.indexOf('InErrors')]);
    const rcvbufErrors = Number(values[names.indexOf('RcvbufErrors')]);
    if (!Number.isFinite(inErrors) || !Number.isFinite(rcvbufErrors)) return undefined;
    return { inErrors, rcvbufErrors };
  } catch {
    return undefined;
  }
}

/**
 * The sender, run as `node -e`: paces `rate` messages/s for `seconds` s in bursts every BURST_MS (catching up
 * at most a few bursts when late), to 127.0.0.1 only, then prints `{"sent":N}` and exits. A hard timer ends it
 * whatever happens.
 */
function senderScript(config: { port: number; transport: 'udp' | 'tcp'; rate: number; seconds: number }): string {
  return `
const config = ${JSON.stringify(config)};
const BURST_MS = ${BURST_MS};
const hard = setTimeout(() => { process.stderr.write('syslog sender: hard timeout\\n'); process.exit(2); }, config.seconds * 1000 + ${SENDER_GRACE_MS});
const MONTHS = ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
const pad = (n) => String(n).padStart(2, '0');
function stamp() {
  const d = new Date();
  return MONTHS[d.getUTCMonth()] + ' ' + String(d.getUTCDate()).padStart(2, ' ') + ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
}
let seq = 0;
function message(date) {
  const n = (seq++ % 254) + 1;
  return '<28>' + date + ' sbc1 kamailio[4242]: WARNING: pike [pike_funcs.c:135]: pike_check_ipaddr(): PIKE - BLOCKing ip 198.51.100.' + n + ', node=0x1';
}
const total = Math.round(config.rate * config.seconds);
const perBurstCap = Math.max(1, Math.ceil(config.rate * BURST_MS / 1000) * 4);
let queued = 0;
let sent = 0;
let failed = 0;
const start = performance.now();
const due = () => Math.min(total, Math.floor((performance.now() - start) * config.rate / 1000));
const finished = () => performance.now() - start >= config.seconds * 1000 || queued >= total;
function report() {
  clearTimeout(hard);
  process.stdout.write(JSON.stringify({ sent, failed }) + '\\n');
}
if (config.transport === 'udp') {
  const dgram = require('node:dgram');
  const socket = dgram.createSocket('udp4');
  let pending = 0;
  let done = false;
  const onSent = (error) => {
    pending--;
    if (error) failed++; else sent++;
    if (done && pending === 0) { report(); socket.close(); }
  };
  socket.connect(config.port, '127.0.0.1', () => {
    const tick = () => {
      const date = stamp();
      const n = Math.min(due() - queued, perBurstCap);
      for (let i = 0; i < n; i++) { pending++; queued++; socket.send(message(date), onSent); }
      if (finished()) {
        done = true;
        if (pending === 0) { report(); socket.close(); }
        return;
      }
      setTimeout(tick, BURST_MS);
    };
    tick();
  });
} else {
  const net = require('node:net');
  const socket = net.connect(config.port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', (error) => { process.stderr.write('syslog sender: ' + error.message + '\\n'); process.exit(1); });
  let blocked = false;
  socket.on('drain', () => { blocked = false; });
  socket.on('connect', () => {
    const tick = () => {
      if (!blocked) {
        const date = stamp();
        const n = Math.min(due() - queued, perBurstCap);
        if (n > 0) {
          let chunk = '';
          for (let i = 0; i < n; i++) chunk += message(date) + '\\n';
          queued += n;
          blocked = !socket.write(chunk);
        }
      }
      if (finished()) {
        socket.end(() => { sent = queued; report(); });
        return;
      }
      setTimeout(tick, BURST_MS);
    };
    tick();
  });
}
`;
}

/** Runs the sender to completion and returns how many messages it sent. */
function runSender(config: { port: number; transport: 'udp' | 'tcp'; rate: number; seconds: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', senderScript(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), config.seconds * 1000 + SENDER_GRACE_MS + 5_000);
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      try {
        const report = JSON.parse(out.trim().split('\n').pop() ?? '') as { sent: number };
        if (code !== 0) throw new Error(`exit ${code ?? signal}`);
        resolve(report.sent);
      } catch (error) {
        reject(new Error(`syslog sender failed (${(error as Error).message}); stdout: ${out.slice(0, 200)}`));
      }
    });
  });
}

/**
 * Syslog ingestion under load on loopback: the listener and the Kamailio parser run in this process, a separate
 * `node` process sends `rate` Kamailio pike lines per second (RFC 3164) for `seconds` s over UDP or one TCP
 * connection. UDP has no back-pressure, so what the kernel drops is read from its own counters rather than
 * left to be inferred.
 */
export async function syslogLoad(options: { seconds: number; rate: number; transport: 'udp' | 'tcp' }): Promise<SyslogLoadResult> {
  const { seconds, rate, transport } = options;
  const routes: SyslogRoute[] = [{ app: 'kamailio', format: 'kamailio' }];
  const parser = createParser('kamailio');
  const listener = createSyslogListener({ [transport]: { host: LOOPBACK, port: 0 } });
  const abort = new AbortController();
  let received = 0;
  let parsedEvents = 0;
  let lastArrival = performance.now();

  const udpBefore = transport === 'udp' ? udpErrors() : undefined;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const consuming = (async () => {
    for await (const batch of listener.messages(abort.signal)) {
      lastArrival = performance.now();
      received += batch.length;
      for (const got of batch) {
        const format = routeFormat(got.message, routes);
        if (format === null) continue;
        parsedEvents += parser.parse(lineFor(got.message, format), { timezone: 'UTC', referenceTime: got.receivedAt }).length;
      }
    }
  })();

  let sent: number;
  try {
    const port = (await listener.listening())[transport];
    if (port === undefined) throw new Error(`syslog listener: no ${transport} port bound`);
    sent = await runSender({ port, transport, rate, seconds });
    // Drain what is still in socket buffers or the listener's queue: until all arrived, or nothing did for a while.
    const drainEnd = performance.now() + DRAIN_MAX_MS;
    lastArrival = Math.max(lastArrival, performance.now());
    while (received < sent && performance.now() < drainEnd && performance.now() - lastArrival < QUIET_MS) {
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    abort.abort();
    await consuming;
  }
  const cpu = process.cpuUsage(cpuStart);
  const wall = (performance.now() - wallStart) / 1000;
  const udpAfter = transport === 'udp' ? udpErrors() : undefined;

  const result: SyslogLoadResult = {
    sent,
    received,
    parsedEvents,
    lost: sent - received,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    seconds: wall,
  };
  if (udpBefore && udpAfter) {
    // RcvbufErrors (receive buffer full) is also counted in InErrors, so InErrors alone is the total; the larger
    // of the two guards against a kernel that counts them apart.
    result.kernelUdpDrops = Math.max(udpAfter.inErrors - udpBefore.inErrors, udpAfter.rcvbufErrors - udpBefore.rcvbufErrors);
  }
  return result;
}
