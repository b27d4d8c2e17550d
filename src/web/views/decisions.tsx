import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { formatDuration, formatTime } from '../format.js';
import { useResource } from '../resource.js';
import { decisionsHref, explainHref } from '../route.js';
import { useCanMutate } from '../session.js';
import type { DecisionPage } from '../types.js';
import { BulkUnban } from './bulk-unban.js';
import { DecisionState } from './decision-state.js';

const FILTERS = ['active', 'target', 'rule', 'origin'] as const;
const PAGE_SIZE = 50;
type Filters = Record<(typeof FILTERS)[number], string>;

/** The filters live in the hash (`#/decisions?active=true&rule=...`), so a filtered list can be linked and reloaded. */
export function Decisions({ params }: { params: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Filters;
  const before = params.get('before') ?? '';
  // The page size can be set in the link (`limit=`), so a long list can be read in smaller pages.
  const limit = params.get('limit') ?? '';
  const key = params.toString();
  const page = useResource(() => api.get<DecisionPage>(`/decisions${query({ ...filters, before, limit: limit || PAGE_SIZE })}`), key);
  const canMutate = useCanMutate();

  return (
    <div class="decisions">
      <h1>Decisions</h1>
      <FilterForm key={key} initial={filters} />
      {canMutate && <BulkUnban initialTarget={filters.target} initialRule={filters.rule} onDone={page.reload} />}
      {page.error && <p class="error" role="alert">{page.error}</p>}
      {page.data && (
        <section class="card wide">
          {page.data.decisions.length === 0 ? <p class="muted">No decisions match.</p> : (
            <div class="table-scroll">
              <table class="decision-table" data-testid="decisions-table">
                <thead>
                  <tr><th>#</th><th>When</th><th>Target</th><th>Action</th><th>Rule / origin</th><th>Duration</th><th>State</th><th>Reason</th></tr>
                </thead>
                <tbody>
                  {page.data.decisions.map((d) => (
                    <tr key={d.id}>
                      <td data-label="#">{d.id}</td>
                      <td data-label="When" class="nowrap">{formatTime(d.at)}</td>
                      <td data-label="Target"><a href={explainHref(d.target)} class="mono">{d.target}</a></td>
                      <td data-label="Action">{d.action}{d.dryRun ? ' (dry-run)' : ''}</td>
                      <td data-label="Rule / origin">{d.rule ?? d.origin}</td>
                      <td data-label="Duration">{d.action === 'ban' ? formatDuration(d.durationMs) : ''}</td>
                      <td data-label="State"><DecisionState decision={d} /></td>
                      <td data-label="Reason">{d.revokeReason ? `${d.reason} — unbanned: ${d.revokeReason}` : d.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Pages">
            {before !== '' && <a href={decisionsHref({ ...filters, limit })}>Newest</a>}
            {page.data.next !== undefined && page.data.next !== null && <a href={decisionsHref({ ...filters, limit, before: String(page.data.next) })}>Older</a>}
          </nav>
        </section>
      )}
    </div>
  );
}

function FilterForm({ initial }: { initial: Filters }) {
  const [filters, setFilters] = useState(initial);
  const set = (field: keyof Filters) => (e: Event): void => setFilters({ ...filters, [field]: (e.currentTarget as HTMLInputElement).value });
  const apply = (e: Event): void => {
    e.preventDefault();
    location.hash = decisionsHref({ ...filters, target: filters.target.trim(), rule: filters.rule.trim() });
  };
  return (
    <form class="card wide filters" onSubmit={apply} aria-label="Filters">
      <label>State
        <select value={filters.active} onChange={set('active')}>
          <option value="">all</option>
          <option value="true">active</option>
          <option value="false">inactive</option>
        </select>
      </label>
      <label>Address or prefix<input name="target" value={filters.target} onInput={set('target')} placeholder="e.g. 203.0.113.0/24" /></label>
      <label>Rule<input name="rule" value={filters.rule} onInput={set('rule')} placeholder="e.g. bruteforce" /></label>
      <label>Origin
        <select value={filters.origin} onChange={set('origin')}>
          <option value="">any</option>
          <option value="rule">rule</option>
          <option value="manual">manual</option>
          <option value="feed">feed</option>
        </select>
      </label>
      <button type="submit" class="primary">Filter</button>
    </form>
  );
}
