/**
 * Throughput and latency of the file source, run by hand: `node dist/src/sources/file/file.bench.js`.
 * Not a unit test: timings depend on the machine (see DESIGN.md, performance budgets).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createFileSource } from './index.js';

const LINE =
  "[2024-01-01 12:00:00] NOTICE[1234] chan_sip.c: Registration from '\"100\" <sip:100@10.0.0.1>' failed for '1.2.3.4:5060' - Wrong password\n";

async function throughput(dir: string, lineCount: number): Promise<void> {
  const path = join(dir, 'big.log');
  const block = LINE.repeat(10_000);
  const file = await open(path, 'w');
  for (let written = 0; written < lineCount; written += 10_000) await file.write(block);
  await file.close();
  const controller = new AbortController();
  const source = createFileSource({ id: 'bench', path, startAt: 'start' });
  const started = performance.now();
  let seen = 0;
  for await (const batch of source.records(controller.signal)) {
    seen += batch.records.length;
    if (seen >= lineCount) break;
  }
  const ms = performance.now() - started;
  const megabytes = (lineCount * Buffer.byteLength(LINE)) / 1e6;
  console.log(`read ${seen} lines (${megabytes.toFixed(0)} MB) from the start in ${ms.toFixed(0)} ms`);
}

async function latency(dir: string, appends: number): Promise<void> {
  const path = join(dir, 'live.log');
  await writeFile(path, LINE);
  const controller = new AbortController();
  const iterator = createFileSource({ id: 'bench', path, startAt: 'start' })
    .records(controller.signal)
    [Symbol.asyncIterator]();
  await iterator.next();
  const fd = openSync(path, 'a');
  const samples: number[] = [];
  for (let n = 0; n < appends; n++) {
    const written = performance.now();
    writeSync(fd, LINE);
    await iterator.next();
    samples.push(performance.now() - written);
  }
  closeSync(fd);
  controller.abort();
  await iterator.return?.();
  samples.sort((a, b) => a - b);
  const at = (q: number): string => (samples[Math.floor(q * (samples.length - 1))] ?? NaN).toFixed(2);
  console.log(`append -> yield over ${appends} appends: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
}

const dir = await mkdtemp(join(tmpdir(), 'sipwarden-bench-'));
try {
  await throughput(dir, 1_000_000);
  await latency(dir, 200);
} finally {
  await rm(dir, { recursive: true, force: true });
}
