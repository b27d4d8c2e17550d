import { useState } from 'preact/hooks';
import { formatDuration, formatTime } from '../format.js';
import type { AuditEntry, Incident, Progress, StoredEvent, TimelineEntry } from '../types.js';

/** Consecutive entries that say the same thing (a brute force is hundreds of identical failures) become one. */
export interface TimelineGroup {
  entry: TimelineEntry;
  count: number;
  lastAt: number;
}

export function groupTimeline(entries: TimelineEntry[]): TimelineGroup[] {
  const groups: TimelineGroup[] = [];
  for (const entry of entries) {
    const last = groups[groups.length - 1];
    if (last && entry.type === 'event' && last.entry.type === 'event' && last.entry.title === entry.title && last.entry.detail === entry.detail) {
      last.count++;
      last.lastAt = entry.at;
    } else {
      groups.push({ entry, count: 1, lastAt: entry.at });
    }
  }
  return groups;
}

/** Oldest first, as the API orders it: the story reads from the first knock to the ban and its undoing. */
export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p class="muted">Nothing recorded.</p>;
  return (
    <ol class="timeline" data-testid="timeline">
      {groupTimeline(entries).map(({ entry, count, lastAt }, i) => (
        <li key={`${entry.type}-${entry.id ?? i}-${entry.at}`} class={`tl-${entry.type}`}>
          <time>{formatTime(entry.at)}{count > 1 ? ` – ${formatTime(lastAt)}` : ''}</time>
          <span class="tl-type">{entry.type}</span>
          {count > 1 && <span class="badge">{count}×</span>}
          <strong class="tl-title">{entry.title}</strong>
          {entry.detail && <span class="tl-detail">{entry.detail}</span>}
        </li>
      ))}
    </ol>
  );
}

/** The newest events first; the rest on request, so a long story stays one screen on a phone. */
const FIRST_EVENTS = 25;

/** Account, destination, User-Agent and reason are attacker text: they are only ever text nodes here. */
export function EventsTable({ events }: { events: StoredEvent[] }) {
  const [all, setAll] = useState(false);
  if (events.length === 0) return <p class="muted">No events stored.</p>;
  const shown = all ? events : events.slice(0, FIRST_EVENTS);
  return (
    <div class="table-scroll">
      <table class="events" data-testid="events-table">
        <thead>
          <tr><th>Time</th><th>Kind</th><th>Address</th><th>Account</th><th>Destination</th><th>User-Agent</th><th>Reason</th><th>Evidence</th></tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr key={e.id}>
              <td data-label="Time" class="nowrap">{formatTime(e.at)}</td>
              <td data-label="Kind" class="nowrap">{e.kind}</td>
              <td data-label="Address" class="mono">{e.ip ?? '—'}{e.port ? `:${e.port}` : ''}{e.transport ? ` ${e.transport}` : ''}</td>
              <td data-label="Account" class="mono">{e.account ?? ''}{e.domain ? `@${e.domain}` : ''}</td>
              <td data-label="Destination" class="mono">{e.destination ?? ''}</td>
              <td data-label="User-Agent" class="ua">{e.userAgent ?? ''}</td>
              <td data-label="Reason">{e.reason ?? ''}</td>
              <td data-label="Evidence"><span class={`badge ${e.evidence === 'verified' ? 'good' : ''}`}>{e.evidence}</span></td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length < events.length && (
        <button type="button" class="show-all" onClick={() => setAll(true)}>Show all {events.length} events</button>
      )}
    </div>
  );
}

export function AuditList({ audit }: { audit: AuditEntry[] }) {
  return (
    <section class="card" aria-labelledby="au-title">
      <h2 id="au-title">Audit</h2>
      {audit.length === 0 ? <p class="muted">No operator actions.</p> : (
        <ul class="rows audit" data-testid="audit">
          {audit.map((a, i) => (
            <li key={`${a.at}-${i}`} class="row audit-entry">
              <span class="muted">{formatTime(a.at)}</span>
              <span><strong>{a.action}</strong> <span class="mono">{a.target}</span> by {a.actor}</span>
              <span class="audit-reason">{a.reason}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function asDuration(value: string | number | null): string {
  if (value === null) return 'permanent';
  return typeof value === 'number' ? formatDuration(value) : value;
}

/** How close an unbanned address is to each rule's threshold. */
export function ProgressList({ progress }: { progress: Progress[] }) {
  return (
    <section class="card" aria-labelledby="pr-title">
      <h2 id="pr-title">Distance to a ban</h2>
      <ul class="bars">
        {progress.map((p) => (
          <li key={p.rule}>
            <span class="bar-label">{p.rule}</span>
            <span class="bar-track"><span class="bar" style={{ width: `${Math.min(100, (100 * p.count) / Math.max(1, p.threshold))}%` }} /></span>
            <span class="num">{p.count}/{p.threshold} in {asDuration(p.window)}, ban {asDuration(p.ban)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Incidents({ incidents }: { incidents: Incident[] }) {
  return (
    <section class="card" aria-labelledby="in-title">
      <h2 id="in-title">Fraud incidents</h2>
      <ul class="rows">
        {incidents.map((i) => (
          <li key={i.id} class="row">
            <span class={`badge ${i.severity === 'critical' ? 'bad' : ''}`}>{i.severity}</span>
            <span>opened {formatTime(i.openedAt)}, {i.calls} calls, {i.minutes} min{i.estimatedCost !== undefined ? `, ~${i.estimatedCost} ${i.currency ?? ''}` : ''}</span>
            <span class="muted mono clip">{i.sources.join(', ')}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
