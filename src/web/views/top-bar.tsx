import { useEffect, useState } from 'preact/hooks';
import { explainHref, type Route } from '../route.js';
import type { Session } from '../types.js';

/** The search box takes an address, a prefix or an account; the explain endpoint tells which it is. */
export function TopBar({ route, session, onLogOut }: { route: Route; session: Session; onLogOut: () => void }) {
  const [search, setSearch] = useState(route.view === 'explain' ? route.target : '');
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    if (route.view === 'explain') setSearch(route.target);
  }, [route]);

  const submit = (e: Event): void => {
    e.preventDefault();
    const target = search.trim();
    if (target !== '') location.hash = explainHref(target);
  };
  const link = (href: string, label: string, active: boolean) => (
    <a href={href} class={active ? 'active' : undefined} aria-current={active ? 'page' : undefined} onClick={() => setMenuOpen(false)}>{label}</a>
  );

  return (
    <header class="top-bar">
      <a class="brand" href="#/dashboard">sipwarden</a>
      <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>Menu</button>
      <nav id="nav" class={menuOpen ? 'open' : undefined}>
        {link('#/dashboard', 'Dashboard', route.view === 'dashboard')}
        {link('#/decisions?active=true', 'Decisions', route.view === 'decisions')}
        <span class="who" title={`role ${session.role}`}>{session.name} · {session.role}</span>
        <button type="button" class="link" onClick={onLogOut}>Log out</button>
      </nav>
      <form class="search" role="search" onSubmit={submit}>
        <input type="search" name="q" aria-label="Address, prefix or account" placeholder="Address, prefix or account"
          value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <button type="submit">Explain</button>
      </form>
    </header>
  );
}
