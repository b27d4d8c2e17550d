import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from './types.js';

export const SessionContext = createContext<Session | null>(null);

/** Viewers read; only operators and admins see the buttons that ban and unban (the API enforces it too). */
export function useCanMutate(): boolean {
  const session = useContext(SessionContext);
  return session?.role === 'operator' || session?.role === 'admin';
}
