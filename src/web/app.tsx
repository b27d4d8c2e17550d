import { useEffect, useState } from 'preact/hooks';
import { ApiError, logOut, restoreSession, whenUnauthorized } from './api.js';
import { useRoute } from './route.js';
import { SessionContext } from './session.js';
import type { Session } from './types.js';
import { Dashboard } from './views/dashboard.js';
import { Decisions } from './views/decisions.js';
import { ExplainView } from './views/explain.js';
import { Login } from './views/login.js';
import { TopBar } from './views/top-bar.js';

type State = { phase: 'loading' } | { phase: 'login'; notice?: string } | { phase: 'in'; session: Session } | { phase: 'down'; message: string };

export function App() {
  const [state, setState] = useState<State>({ phase: 'loading' });
  const route = useRoute();

  useEffect(() => {
    whenUnauthorized(() => setState({ phase: 'login', notice: 'Your session ended. Log in again.' }));
    restoreSession()
      .then((session) => setState(session ? { phase: 'in', session } : { phase: 'login' }))
      .catch((error: unknown) => setState({ phase: 'down', message: error instanceof ApiError ? error.message : String(error) }));
  }, []);

  if (state.phase === 'loading') return <p class="page-note">Loading…</p>;
  if (state.phase === 'down') return <p class="page-note error">The API does not answer: {state.message}</p>;
  if (state.phase === 'login') return <Login notice={state.notice} onSession={(session) => setState({ phase: 'in', session })} />;

  const leave = (): void => {
    void logOut().finally(() => setState({ phase: 'login', notice: 'Logged out.' }));
  };
  return (
    <SessionContext.Provider value={state.session}>
      <TopBar route={route} session={state.session} onLogOut={leave} />
      <main class="content">
        {route.view === 'dashboard' && <Dashboard />}
        {route.view === 'explain' && <ExplainView key={route.target} target={route.target} />}
        {route.view === 'decisions' && <Decisions params={route.params} />}
      </main>
    </SessionContext.Provider>
  );
}
