import { useState } from 'preact/hooks';
import { ApiError, logIn } from '../api.js';
import type { Session } from '../types.js';

/**
 * The token is exchanged once for an HttpOnly session cookie and then dropped: it lives only in this form's
 * state until the answer arrives, and the field is cleared either way.
 */
export function Login({ notice, onSession }: { notice?: string | undefined; onSession: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const session = await logIn(token.trim());
      setToken('');
      onSession(session);
    } catch (err) {
      setToken('');
      if (err instanceof ApiError && err.status === 429) setError('Too many failed attempts from this address. Wait a minute.');
      else if (err instanceof ApiError && err.status === 401) setError('That token is not valid.');
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit} autocomplete="off">
        <h1 class="brand">sipwarden</h1>
        <p class="muted">Log in with an API token (<code>sipwarden token create --role operator</code>).</p>
        {notice && <p class="notice">{notice}</p>}
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} required value={token}
          onInput={(e) => setToken(e.currentTarget.value)} />
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>{busy ? 'Logging in…' : 'Log in'}</button>
      </form>
    </main>
  );
}
