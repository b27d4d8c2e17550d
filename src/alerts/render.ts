import type { Alert } from './types.js';

/** `2026-11-21 09:14:03 UTC`: alerts reach people in other time zones, so they say which one. */
export function alertTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The message as plain text: what happened, the evidence, the command that undoes it, the link. */
export function alertText(alert: Alert): string {
  const lines = [alert.what, '', 'Evidence:', ...alert.evidence.map((line) => `  - ${line}`)];
  if (alert.undo) lines.push('', 'Undo:', ...alert.undo.split('\n').map((line) => `  ${line}`));
  if (alert.link) lines.push('', `Details: ${alert.link}`);
  lines.push('', `-- sipwarden ${alert.kind} (${alert.severity}) at ${alertTime(alert.at)}`);
  return lines.join('\n');
}

/** Subjects and titles are one line: a CR or LF in attacker text must not start a new header or paragraph. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
