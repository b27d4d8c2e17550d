import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Decision } from '../types.js';
import { ReasonDialog } from './reason-dialog.js';

/** "Unban every active ban in prefix X and/or of rule Y": one request, one audit record per lifted ban. */
export function BulkUnban({ initialTarget, initialRule, onDone }: { initialTarget: string; initialRule: string; onDone: () => void }) {
  const [target, setTarget] = useState(initialTarget);
  const [rule, setRule] = useState(initialRule);
  const [confirming, setConfirming] = useState(false);
  const scope = [target.trim() && `inside or covering ${target.trim()}`, rule.trim() && `made by rule ${rule.trim()}`].filter(Boolean).join(' and ');

  return (
    <form class="card wide bulk" aria-label="Bulk unban" onSubmit={(e) => { e.preventDefault(); if (scope) setConfirming(true); }}>
      <h2>Bulk unban</h2>
      <label>Prefix or address<input name="bulk-target" value={target} onInput={(e) => setTarget(e.currentTarget.value)} placeholder="e.g. 198.51.100.0/24" /></label>
      <label>Rule<input name="bulk-rule" value={rule} onInput={(e) => setRule(e.currentTarget.value)} placeholder="e.g. bruteforce" /></label>
      <button type="submit" class="danger" disabled={!scope}>Unban all…</button>
      {confirming && (
        <ReasonDialog title="Unban every matching active ban" confirmLabel="Unban all"
          onConfirm={async (reason) => {
            const body: { target?: string; rule?: string; reason: string } = { reason };
            if (target.trim()) body.target = target.trim();
            if (rule.trim()) body.rule = rule.trim();
            const { revoked } = await api.post<{ revoked: Decision[] }>('/unban', body);
            return describeRevoked(revoked);
          }}
          onClose={(done) => {
            setConfirming(false);
            if (done) onDone();
          }}>
          <p>Every active ban {scope} will be lifted.</p>
        </ReasonDialog>
      )}
    </form>
  );
}

const NAMED = 20;

function describeRevoked(revoked: Decision[]): string {
  if (revoked.length === 0) return 'No active ban matched; nothing was revoked.';
  const named = revoked.slice(0, NAMED).map((d) => d.target).join(', ');
  const more = revoked.length > NAMED ? ` and ${revoked.length - NAMED} more` : '';
  return `Revoked ${revoked.length} ban${revoked.length === 1 ? '' : 's'}: ${named}${more}.`;
}
