import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A modal that asks for the reason every unban needs (it goes into the audit record). `onConfirm` does the
 * request; what it resolves to is shown as the outcome, and a rejection keeps the dialog open with the error.
 */
export function ReasonDialog({ title, children, confirmLabel, onConfirm, onClose }: {
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  onConfirm: (reason: string) => Promise<string | void>;
  onClose: (done: boolean) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<string | undefined>();

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (reason.trim() === '') return;
    setBusy(true);
    setError(undefined);
    try {
      const result = await onConfirm(reason.trim());
      if (typeof result === 'string') setOutcome(result);
      else onClose(true);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="reason-dialog" aria-labelledby="reason-title" onCancel={(e) => { e.preventDefault(); onClose(outcome !== undefined); }}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="reason-title">{title}</h2>
        {outcome === undefined ? (
          <>
            {children}
            <label for="reason">Reason (kept in the audit log)</label>
            <textarea id="reason" name="reason" rows={3} required maxLength={500} value={reason}
              onInput={(e) => setReason(e.currentTarget.value)} />
            {error && <p class="error" role="alert">{error}</p>}
            <div class="dialog-buttons">
              <button type="button" onClick={() => onClose(false)} disabled={busy}>Cancel</button>
              <button type="submit" class="danger" disabled={busy || reason.trim() === ''}>{busy ? 'Working…' : confirmLabel}</button>
            </div>
          </>
        ) : (
          <>
            <p class="outcome" role="status">{outcome}</p>
            <div class="dialog-buttons">
              <button type="button" class="primary" onClick={() => onClose(true)}>Close</button>
            </div>
          </>
        )}
      </form>
    </dialog>
  );
}
