/** What the daemon reports about itself for `/healthz`, `/api/v1/health` and the dashboard. */
export interface HealthReport {
  node: string;
  version: string;
  startedAt: number;
  enforcer: { name: string; ok: boolean; detail?: string; checkedAt?: number };
  sources: { id: string; type: string; state: 'running' | 'restarting'; restarts: number; lastError?: string; lastEventAt?: number }[];
  feeds: { id: string; ok: boolean; entries?: number; syncedAt?: number; detail?: string }[];
  activeBans: number;
}
