import { api, enc } from '../api.js';
import { useClock } from '../clock.js';
import { banUntil, formatTime, relative } from '../format.js';
import { useResource } from '../resource.js';
import type { Decision, Explain } from '../types.js';
import { AuditList, EventsTable, Incidents, ProgressList, Timeline } from './explain-sections.js';
import { UnbanButton } from './unban-button.js';

/** The story of one address, prefix or account: the same one `sipwarden why` tells, for the support ticket. */
export function ExplainView({ target }: { target: string }) {
  const story = useResource(() => api.get<Explain>(`/explain/${enc(target)}`), target);
  if (story.error) return <p class="error" role="alert">Cannot explain {target}: {story.error}</p>;
  if (!story.data) return <p class="page-note">Loading the story of {target}…</p>;
  const x = story.data;
  return (
    <article class="explain" data-testid="explain">
      <ExplainHeader story={x} onChange={story.reload} />
      <div class="grid explain-grid">
        <section class="card" aria-labelledby="tl-title">
          <h2 id="tl-title">Timeline <span class="muted">(oldest first)</span></h2>
          <Timeline entries={x.timeline} />
        </section>
        <div class="stack">
          {x.progress && x.progress.length > 0 && <ProgressList progress={x.progress} />}
          {x.incidents && x.incidents.length > 0 && <Incidents incidents={x.incidents} />}
          <AuditList audit={x.audit} />
        </div>
      </div>
      <section class="card wide" aria-labelledby="ev-title">
        <h2 id="ev-title">Events <span class="muted">({x.events.length} stored and shown here, newest first)</span></h2>
        <EventsTable events={x.events} />
      </section>
    </article>
  );
}

function ExplainHeader({ story, onChange }: { story: Explain; onChange: () => void }) {
  const now = useClock().now();
  const counts = Object.entries(story.counts).map(([kind, n]) => `${kind} ${n}`).join(', ');
  return (
    <section class={`card wide explain-head ${story.banned ? 'is-banned' : ''}`}>
      <h1>
        <span class="mono">{story.target}</span>
        <span class="muted small"> {story.kind === 'cidr' ? 'prefix' : story.kind}</span>
      </h1>
      <p class="verdict" data-testid="verdict">{story.banned ? 'BANNED' : 'not banned'}</p>
      {story.active.map((d) => <ActiveBan key={d.id} decision={d} now={now} onChange={onChange} />)}
      <dl class="facts">
        {story.kind !== 'account' && <Fact term="Allowlisted" value={story.allowlisted ? `yes (${story.allowlisted})` : 'no'} />}
        {story.kind !== 'account' && <Fact term="Trunk/customer" value={story.trunk ? `yes (${story.trunk})` : 'no'} />}
        <Fact term="Known-good" value={story.knownGood.length === 0 ? 'none' : story.knownGood.map((k) => `${story.kind === 'account' ? k.ip : k.account} (last ${formatTime(k.lastSeen)}, ${k.count}x)`).join('; ')} />
        {story.country && <Fact term="Country" value={story.country} />}
        {story.asn !== undefined && <Fact term="ASN" value={`AS${story.asn}${story.organisation ? ` ${story.organisation}` : ''}`} />}
        <Fact term="Events stored" value={counts === '' ? 'none' : counts} />
        {story.undo && <Fact term="Undo (CLI)" value={story.undo} mono />}
      </dl>
    </section>
  );
}

function ActiveBan({ decision, now, onChange }: { decision: Decision; now: number; onChange: () => void }) {
  const expiry = decision.expiresAt === null || decision.expiresAt === undefined ? '' : ` (${relative(decision.expiresAt, now)})`;
  return (
    <div class="active-ban" data-testid="active-ban">
      <span>
        <span class="mono">{decision.target}</span> banned {banUntil(decision.expiresAt)}{expiry}
        {decision.rule ? ` by rule ${decision.rule}` : ` (${decision.origin})`}: {decision.reason}
      </span>
      <UnbanButton decision={decision} onDone={onChange} />
    </div>
  );
}

function Fact({ term, value, mono }: { term: string; value: string; mono?: boolean }) {
  return (
    <>
      <dt>{term}</dt>
      <dd class={mono ? 'mono' : undefined}>{value}</dd>
    </>
  );
}
