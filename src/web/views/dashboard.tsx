import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { formatCount } from '../format.js';
import { useLiveDecisions } from '../live.js';
import { useResource } from '../resource.js';
import type { Decision, DecisionPage, Health, Stats } from '../types.js';
import { AttackChart } from './attack-chart.js';
import { Countries, HealthPanel, KnownGoodBans, RecentDecisions, TopAccounts, TopSources } from './dashboard-panels.js';

const RECENT = 10;
/** A burst of bans must not become a burst of stats queries: refresh at most this often while the stream is busy. */
const REFRESH_GAP_MS = 2000;

export function Dashboard() {
  const stats = useResource(() => api.get<Stats>(`/stats${query({ since: '24h' })}`), 'stats');
  const health = useResource(() => api.get<Health>('/health'), 'health');
  const recent = useResource(() => api.get<DecisionPage>(`/decisions${query({ limit: RECENT })}`), 'recent');
  const [live, setLive] = useState<Decision[]>([]);
  const refresh = useRef<ReturnType<typeof setTimeout> | undefined>();

  useEffect(() => () => clearTimeout(refresh.current), []);
  useLiveDecisions(({ decision }) => {
    setLive((list) => [decision, ...list.filter((d) => d.id !== decision.id)].slice(0, RECENT));
    if (refresh.current === undefined) {
      refresh.current = setTimeout(() => {
        refresh.current = undefined;
        stats.reload();
        health.reload();
      }, REFRESH_GAP_MS);
    }
  });

  const reloadAll = (): void => {
    stats.reload();
    health.reload();
    recent.reload();
  };
  const data = stats.data;
  const total = data ? Object.values(data.byKind).reduce((sum, n) => sum + n, 0) : 0;
  const recentDecisions = mergeRecent(live, recent.data?.decisions ?? []);

  return (
    <div class="dashboard">
      <h1 class="visually-hidden">Dashboard</h1>
      {stats.error && <p class="error" role="alert">Stats: {stats.error}</p>}
      <section class="tiles" aria-label="Summary">
        <div class="tile"><span class="tile-value" data-testid="active-bans">{data ? formatCount(data.activeBans) : '…'}</span><span class="tile-label">active bans</span></div>
        <div class="tile"><span class="tile-value">{data ? formatCount(total) : '…'}</span><span class="tile-label">events, 24h</span></div>
        <div class={`tile ${data && data.knownGoodBans.length > 0 ? 'tile-alert' : ''}`}>
          <span class="tile-value">{data ? formatCount(data.knownGoodBans.length) : '…'}</span><span class="tile-label">known-good bans</span>
        </div>
        <div class={`tile ${health.data && !health.data.enforcer.ok ? 'tile-alert' : ''}`}>
          <span class="tile-value">{health.data ? (health.data.enforcer.ok ? 'OK' : 'FAILING') : '…'}</span>
          <span class="tile-label">enforcer {health.data?.enforcer.name}</span>
        </div>
      </section>
      {data && data.knownGoodBans.length > 0 && <KnownGoodBans bans={data.knownGoodBans} onChange={reloadAll} />}
      <section class="card wide">
        <h2>Attacks over time <span class="muted">(24h)</span></h2>
        {data ? <AttackChart stats={data} /> : <p class="muted">Loading…</p>}
      </section>
      <div class="grid">
        {data && <TopSources sources={data.topSources} />}
        {data && <TopAccounts accounts={data.topAccounts} />}
        {data && <Countries byCountry={data.byCountry} />}
        <RecentDecisions decisions={recentDecisions} />
        {health.error && <p class="error">Health: {health.error}</p>}
        {health.data && <HealthPanel health={health.data} />}
      </div>
    </div>
  );
}

/** Stream entries first (a revoke replaces the ban it lifted), then the page loaded at start, newest first. */
function mergeRecent(live: Decision[], loaded: Decision[]): Decision[] {
  const seen = new Set(live.map((d) => d.id));
  return [...live, ...loaded.filter((d) => !seen.has(d.id))].sort((a, b) => b.id - a.id).slice(0, RECENT);
}
