import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { systemClock, type Clock } from '../core/clock.js';

/** The console reads wall time (for "in 59m" and the default time ranges) only through this context. */
export const ClockContext = createContext<Clock>(systemClock);

export const useClock = (): Clock => useContext(ClockContext);
