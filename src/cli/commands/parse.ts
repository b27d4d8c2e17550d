import { statSync } from 'node:fs';
import type { SecurityEvent } from '../../core/event.js';
import { createParser } from '../../parsers/index.js';
import { optionalConfig } from '../context.js';
import { checkReadable, readLineBatches } from '../read-lines.js';

export interface ParseOptions {
  format: string;
  config?: string;
  timezone?: string;
}

/** What the NDJSON output shows of an event; `raw` is left out (it is the input line). */
function view(line: number, e: SecurityEvent): Record<string, unknown> {
  return {
    line, kind: e.kind, ip: e.ip, port: e.port, transport: e.transport, account: e.account, domain: e.domain,
    destination: e.destination, userAgent: e.userAgent, callId: e.callId, evidence: e.evidence, reason: e.reason,
    pattern: e.pattern, at: new Date(e.at).toISOString(), server: e.server,
    ...(e.tampered ? { tampered: true, candidates: e.candidates } : {}),
  };
}

/** `sipwarden parse`: one JSON object per recognised event; lines without an event print nothing. */
export async function parseCommand(file: string | undefined, options: ParseOptions): Promise<void> {
  if (file && file !== '-') checkReadable(file);
  const config = await optionalConfig(options.config);
  const parser = createParser(options.format, config);
  const referenceTime = file && file !== '-' ? statSync(file).mtimeMs : Date.now();
  const ctx = { timezone: options.timezone ?? config.timezone, referenceTime };
  let line = 0;
  let out = '';
  for await (const batch of readLineBatches(file)) {
    for (const text of batch) {
      line++;
      for (const event of parser.parse(text, ctx)) out += `${JSON.stringify(view(line, event))}\n`;
    }
    if (out.length > 1 << 16) {
      process.stdout.write(out);
      out = '';
    }
  }
  process.stdout.write(out);
}
