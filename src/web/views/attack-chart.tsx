import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Stats } from '../types.js';

/** Kinds worth a line of their own on "attacks over time"; successes and call records are not attacks. */
const ATTACK_KINDS: Record<string, string> = {
  'auth-failure': '#d9480f',
  'unknown-account': '#f59f00',
  'acl-denied': '#7048e8',
  'dialplan-miss': '#c2255c',
  scanner: '#1c7ed6',
  flood: '#2b8a3e',
  tampered: '#495057',
};

export function attackKinds(series: Stats['series']): string[] {
  const seen = new Set<string>();
  for (const bucket of series) for (const [kind, count] of Object.entries(bucket.counts)) if (count > 0 && kind in ATTACK_KINDS) seen.add(kind);
  return Object.keys(ATTACK_KINDS).filter((kind) => seen.has(kind));
}

/** One line per attack kind, events per bucket; uPlot draws on a canvas, so no label ever becomes markup. */
export function AttackChart({ stats }: { stats: Stats }) {
  const box = useRef<HTMLDivElement>(null);
  const kinds = attackKinds(stats.series);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const data: uPlot.AlignedData = [
      stats.series.map((b) => b.t / 1000),
      ...kinds.map((kind) => stats.series.map((b) => b.counts[kind] ?? 0)),
    ];
    const size = (): { width: number; height: number } => ({ width: Math.max(240, element.clientWidth), height: element.clientWidth < 500 ? 180 : 240 });
    const plot = new uPlot({
      ...size(),
      series: [{}, ...kinds.map((kind) => ({ label: kind, stroke: ATTACK_KINDS[kind], width: 2, points: { show: false } }))],
      axes: [{}, { label: 'events', size: 50 }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    }, data, element);
    const resize = new ResizeObserver(() => plot.setSize(size()));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [stats, kinds.join(',')]);

  return (
    <div class="chart" ref={box} data-testid="attack-chart">
      {kinds.length === 0 && <p class="muted">No attacks in this period.</p>}
    </div>
  );
}
