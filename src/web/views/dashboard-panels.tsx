import { useClock } from '../clock.js';
import { formatCount, formatTime, relative } from '../format.js';
import { explainHref } from '../route.js';
import type { Decision, Health, Stats } from '../types.js';
import { DecisionState } from './decision-state.js';
import { UnbanButton } from './unban-button.js';

/** Bans of addresses that logged in successfully or sit on the trunk list: each is a support ticket on its way. */
export function KnownGoodBans({ bans, onChange }: { bans: Decision[]; onChange: () => void }) {
  return (
    <section class="card wide alert-card" aria-labelledby="kg-title">
      <h2 id="kg-title">Bans of known-good addresses ({bans.length})</h2>
      <p class="muted">These addresses authenticated successfully recently, or are on the trunk list. Check them first.</p>
      <ul class="rows">
        {bans.map((d) => (
          <li key={d.id} class="row">
            <span class="two-lines">
              <a href={explainHref(d.target)} class="mono">{d.target}</a>
              <span class="muted small">{d.rule ? `rule ${d.rule}` : d.origin} · {formatTime(d.at)} · {d.reason}</span>
            </span>
            <UnbanButton decision={d} onDone={onChange} />
          </li>
        ))}
      </ul>
    </section>
  );
}

export function TopSources({ sources }: { sources: Stats['topSources'] }) {
  return (
    <section class="card" aria-labelledby="ts-title">
      <h2 id="ts-title">Top sources</h2>
      {sources.length === 0 ? <p class="muted">No events.</p> : (
        <ol class="rows" data-testid="top-sources">
          {sources.map((s) => (
            <li key={s.ip} class="row">
              <a href={explainHref(s.ip)} class="mono">{s.ip}</a>
              <span class="muted">{s.country ?? ''}</span>
              <span class="num">{formatCount(s.events)}</span>
              {s.banned ? <span class="badge bad">banned</span> : <span class="badge">open</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function TopAccounts({ accounts }: { accounts: Stats['topAccounts'] }) {
  return (
    <section class="card" aria-labelledby="ta-title">
      <h2 id="ta-title">Top targeted accounts</h2>
      {accounts.length === 0 ? <p class="muted">No failed logins.</p> : (
        <ol class="rows">
          {accounts.map((a) => (
            <li key={a.account} class="row">
              <a href={explainHref(a.account)} class="mono clip">{a.account}</a>
              <span class="num">{formatCount(a.events)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** What the stats call addresses the geo files do not place. */
const UNKNOWN_COUNTRY = '??';

/** A bar list; each bar's width is a DOM style property, which the CSP allows (no style attribute in markup). */
export function Countries({ byCountry }: { byCountry: Record<string, number> }) {
  const entries = Object.entries(byCountry).sort((a, b) => b[1] - a[1]).slice(0, 10);
  const max = entries[0]?.[1] ?? 0;
  return (
    <section class="card" aria-labelledby="co-title">
      <h2 id="co-title">Countries</h2>
      {entries.length === 0 ? <p class="muted">No geo data (configure geo files to see countries).</p> : (
        <ul class="bars">
          {entries.map(([country, count]) => (
            <li key={country}>
              <span class="bar-label">{country === UNKNOWN_COUNTRY ? 'unknown' : country}</span>
              <span class="bar-track"><span class="bar" style={{ width: `${Math.max(2, (100 * count) / max)}%` }} /></span>
              <span class="num">{formatCount(count)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function RecentDecisions({ decisions }: { decisions: Decision[] }) {
  return (
    <section class="card" aria-labelledby="rd-title">
      <h2 id="rd-title">Recent decisions <a class="small-link" href="#/decisions">all</a></h2>
      {decisions.length === 0 ? <p class="muted">None yet.</p> : (
        <ul class="rows" data-testid="recent-decisions">
          {decisions.map((d) => (
            <li key={d.id} class="row">
              <a href={explainHref(d.target)} class="mono clip">{d.target}</a>
              <span class="muted">{d.rule ?? d.origin}</span>
              <DecisionState decision={d} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function HealthPanel({ health }: { health: Health }) {
  const now = useClock().now();
  return (
    <section class="card" aria-labelledby="he-title" data-testid="health">
      <h2 id="he-title">Health <span class="muted">{health.node} · v{health.version}</span></h2>
      <h3>Enforcer</h3>
      <ul class="rows">
        <HealthRow name={health.enforcer.name} detail={health.enforcer.detail ?? ''} ok={health.enforcer.ok} bad="failing" />
      </ul>
      <h3>Sources</h3>
      <ul class="rows">
        {health.sources.length === 0 && <li class="row muted">No sources.</li>}
        {health.sources.map((s) => (
          <HealthRow key={s.id} name={`${s.id} (${s.type})`} ok={s.state === 'running'} bad={s.state}
            detail={s.lastError ?? (s.lastEventAt ? `last event ${relative(s.lastEventAt, now)}` : 'no events yet')} />
        ))}
      </ul>
      <h3>Feeds</h3>
      <ul class="rows">
        {health.feeds.length === 0 && <li class="row muted">No feeds configured.</li>}
        {health.feeds.map((f) => (
          <HealthRow key={f.id} name={f.id} ok={f.ok} bad="down"
            detail={[
              f.detail?.replace(/^SW_ERR_\w+: /, ''),
              f.entries !== undefined ? `${formatCount(f.entries)} entries` : '',
              f.syncedAt ? `synced ${relative(f.syncedAt, now)}` : 'never synced',
            ].filter(Boolean).join(' · ')} />
        ))}
      </ul>
    </section>
  );
}

function HealthRow({ name, detail, ok, bad }: { name: string; detail: string; ok: boolean; bad: string }) {
  return (
    <li class="row">
      <span class="mono keep">{name}</span>
      <span class="muted clip" title={detail}>{detail}</span>
      <span class={`badge ${ok ? 'good' : 'bad'}`}>{ok ? 'ok' : bad}</span>
    </li>
  );
}
