import { useEffect, useRef } from 'preact/hooks';
import type { Decision } from './types.js';

export type LiveChange = { type: 'decision' | 'revoke'; decision: Decision };

/**
 * Follows the daemon's server-sent event stream (same origin, so the session cookie goes with it). EventSource
 * reconnects on its own after a drop; a message that is not JSON is ignored rather than trusted.
 */
export function useLiveDecisions(onChange: (change: LiveChange) => void): void {
  const handler = useRef(onChange);
  handler.current = onChange;
  useEffect(() => {
    const stream = new EventSource('/api/v1/stream');
    const listen = (type: LiveChange['type']) => (message: MessageEvent<string>) => {
      try {
        handler.current({ type, decision: JSON.parse(message.data) as Decision });
      } catch {
        // A malformed frame carries nothing to show.
      }
    };
    stream.addEventListener('decision', listen('decision'));
    stream.addEventListener('revoke', listen('revoke'));
    return () => stream.close();
  }, []);
}
