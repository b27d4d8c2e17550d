#!/usr/bin/env node
// `npm start`: runs the daemon on examples/demo.yaml, which follows var/demo/messages, then replays an attack
// into that log so decisions show up in `sipwarden list` and `sipwarden why`. Ctrl-C stops it.
// `node scripts/demo.mjs attack` appends the attack again (to a running demo). `--once` exits after the show.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = join(root, 'var/demo');
const log = join(demoDir, 'messages');
const config = join(root, 'examples/demo.yaml');
const cli = join(root, 'bin/sipwarden');
const once = process.argv.includes('--once');

const pad = (n) => String(n).padStart(2, '0');
function stamp(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const line = (level, file, msg) => `[${stamp()}] ${level}[${1000 + Math.floor(Math.random() * 9000)}] ${file}: ${msg}\n`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Each step: what happens, and the Asterisk lines it leaves in the log. */
function attackSteps() {
  const steps = [];
  steps.push(['a phone registers normally (learned as a known-good pair)', [
    line('VERBOSE', 'chan_sip.c', "Registered SIP '1001' at 198.51.100.77:5060"),
  ]]);
  steps.push(['svwar-style enumeration from 203.0.113.50 (res_pjsip, UDP)', ['100', '101', '102', '103', '104'].map((u, i) =>
    line('NOTICE', 'res_pjsip/pjsip_distributor.c', `Request 'REGISTER' from '<sip:${u}@192.0.2.10>' failed for '203.0.113.50:5070' (callid: ${4711 + i}) - No matching endpoint found`))]);
  steps.push(['svcrack-style password cracking of 1001 from 2001:db8:bad::7', Array.from({ length: 6 }, () =>
    line('NOTICE', 'chan_sip.c', "Registration from '<sip:1001@192.0.2.10>' failed for '[2001:db8:bad::7]:5062' - Wrong password"))]);
  steps.push(['toll-fraud dialplan probes from 192.0.2.66', ['011972599580679', '00972599580679', '972599580679'].map((x) =>
    line('NOTICE', 'chan_sip.c', `Call from '' (192.0.2.66:5071) to extension '${x}' rejected because extension not found in context 'default'.`))]);
  steps.push(['the phone at 198.51.100.77 keeps an old password (misconfigured device: reported, not banned)', Array.from({ length: 6 }, () =>
    line('NOTICE', 'chan_sip.c', "Registration from '<sip:1001@192.0.2.10>' failed for '198.51.100.77:5060' - Wrong password"))]);
  steps.push(['an injection attempt: an address hidden in the To header (flagged, never banned)', [
    line('NOTICE', 'chan_sip.c', "Registration from '<sip:x@192.0.2.10>' failed for '192.0.2.200:5060' - Wrong password' failed for '203.0.113.99:5060' - Wrong password"),
  ]]);
  return steps;
}

async function attack() {
  for (const [what, lines] of attackSteps()) {
    process.stdout.write(`\n>>> ${what}\n`);
    for (const l of lines) {
      appendFileSync(log, l);
      await sleep(150);
    }
    await sleep(600);
  }
}

/** Shows the daemon's JSON log lines as short sentences. */
function relay(stream) {
  let buffered = '';
  stream.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        const entry = JSON.parse(text);
        process.stdout.write(`    [sipwarden ${entry.level >= 50 ? 'ERROR' : entry.level >= 40 ? 'WARN' : 'info'}] ${entry.msg}\n`);
      } catch {
        process.stdout.write(`    ${text}\n`);
      }
    }
  });
}

function show(args) {
  process.stdout.write(`\n$ sipwarden ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [cli, ...args, '--config', config], { cwd: root, encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
}

if (process.argv[2] === 'attack') {
  await attack();
  process.exit(0);
}

rmSync(demoDir, { recursive: true, force: true });
mkdirSync(demoDir, { recursive: true });
writeFileSync(log, line('VERBOSE', 'asterisk.c', 'Asterisk Ready.'));
process.stdout.write(`sipwarden demo: the daemon follows ${log} (config ${config}).\n`);
const made = spawnSync(process.execPath, [cli, 'token', 'create', '--role', 'operator', '--name', 'demo', '--config', config], { cwd: root, encoding: 'utf8' });
const token = made.stdout.trim();
const daemon = spawn(process.execPath, [cli, 'run', '--config', config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
relay(daemon.stdout);
daemon.stderr.pipe(process.stderr);
daemon.on('exit', (code) => {
  if (code) process.stderr.write(`daemon exited with ${code}\n`);
});
process.on('SIGINT', () => daemon.kill('SIGTERM'));
await sleep(1500);
await attack();
await sleep(1500);
show(['list']);
show(['why', '2001:db8:bad::7']);
show(['why', '198.51.100.77']);
process.stdout.write(`
The daemon keeps following ${log}.
The web console: http://127.0.0.1:8088/  (log in with the operator token ${token || '(token create failed: ' + made.stderr.trim() + ')'})
Try in another terminal:
  bin/sipwarden list --config examples/demo.yaml
  bin/sipwarden why 203.0.113.50 --config examples/demo.yaml
  bin/sipwarden ban 192.0.2.99 --for 1h --reason "seen in our SBC" --config examples/demo.yaml
  bin/sipwarden unban 203.0.113.50 --reason "customer" --config examples/demo.yaml
  node scripts/demo.mjs attack        (replays the attack into the log)
Ctrl-C stops the daemon.
`);
if (once) daemon.kill('SIGTERM');
