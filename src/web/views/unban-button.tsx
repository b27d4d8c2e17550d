import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useCanMutate } from '../session.js';
import type { Decision } from '../types.js';
import { ReasonDialog } from './reason-dialog.js';

/** One-click unban of one decision: asks for the reason, revokes, then lets the caller reload its view. */
export function UnbanButton({ decision, onDone }: { decision: Decision; onDone: () => void }) {
  const canMutate = useCanMutate();
  const [open, setOpen] = useState(false);
  if (!canMutate) return null;
  return (
    <>
      <button type="button" class="danger small" onClick={() => setOpen(true)}>Unban</button>
      {open && (
        <ReasonDialog title={`Unban ${decision.target}`} confirmLabel="Unban"
          onConfirm={async (reason) => {
            await api.post(`/decisions/${decision.id}/revoke`, { reason });
          }}
          onClose={(done) => {
            setOpen(false);
            if (done) onDone();
          }}>
          <p class="muted">Decision #{decision.id}{decision.rule ? `, rule ${decision.rule}` : ''}: {decision.reason}</p>
        </ReasonDialog>
      )}
    </>
  );
}
