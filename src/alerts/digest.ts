import { count } from '../cli/format.js';
import { humanDuration } from '../core/duration.js';
import { BAN_KINDS, type Alert } from './types.js';
import { bulkUnbanCommand } from './undo.js';
import type { HeldBatch } from './window.js';

/** The one message that stands for a window's held alerts of a kind: how many, about whom, and how to undo them. */
export function digestAlert(batch: HeldBatch): Alert {
  const span = humanDuration(Math.max(batch.until - batch.since, 1000));
  const listed = batch.targets.length;
  const evidence = batch.targets.map((t) => (t.count === 1 ? t.target : `${t.target} (${count(t.count)} alerts)`));
  if (batch.otherAlerts > 0) evidence.push(`... and ${count(batch.otherAlerts)} more alerts not listed`);
  for (const sample of batch.samples) evidence.push(`e.g. ${sample.subject}`);
  const alert: Alert = {
    kind: batch.kind,
    severity: batch.severity,
    at: batch.until,
    subject: `${count(batch.count)} more ${batch.kind} alerts in the last ${span}`,
    what:
      `${count(batch.count)} ${batch.kind} alerts came in after the first ones of this window and were held back, ` +
      `so that a flood makes one message, not thousands.` +
      (listed > 0 ? ` The first ${count(listed)} targets are listed with their counts.` : ''),
    evidence,
    digest: { count: batch.count, since: batch.since, until: batch.until, targets: batch.targets, otherAlerts: batch.otherAlerts },
  };
  const undo = bulkUndo(batch);
  if (undo !== undefined) alert.undo = undo;
  return alert;
}

function bulkUndo(batch: HeldBatch): string | undefined {
  if (BAN_KINDS.has(batch.kind) && batch.targets.length > 0) {
    const command = bulkUnbanCommand(batch.targets.map((t) => t.target));
    return batch.otherAlerts > 0 ? `${command}\n# the targets not listed: see sipwarden list` : command;
  }
  const undos = [...new Set(batch.samples.flatMap((sample) => (sample.undo ? [sample.undo] : [])))];
  return undos.length > 0 ? undos.join('\n') : undefined;
}
