import { performance } from 'node:perf_hooks';
import type { Enforcer } from '../enforcers/types.js';
import type { Store } from '../store/types.js';
import type { Metrics } from './metrics.js';

/** The enforcer calls whose latency matters: the path of a ban into the kernel, and the periodic checks. */
export const TIMED_ENFORCER_OPS = ['apply', 'verify', 'reconcile'] as const;

/**
 * Wraps a store so every async method's duration lands in sipwarden_store_seconds{op=<method>}. The store
 * itself is untouched; callers use the wrapper in its place.
 */
export function timedStore(store: Store, metrics: Metrics): Store {
  return timeMethods(store, methodNames(store), (op, seconds) => metrics.observeStore(op, seconds));
}

/** Wraps an enforcer so apply, verify and reconcile land in sipwarden_enforcer_seconds{op}. */
export function timedEnforcer(enforcer: Enforcer, metrics: Metrics): Enforcer {
  return timeMethods(enforcer, new Set(TIMED_ENFORCER_OPS), (op, seconds) => metrics.observeEnforcer(op, seconds));
}

/**
 * The method names an object has when it is wrapped. Only these are timed, so the `op` label is bounded by
 * code (the implementation's methods), whatever property a caller asks for later.
 */
function methodNames(target: object): Set<string> {
  const names = new Set<string>();
  for (let proto: object | null = target; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof (target as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return names;
}

/**
 * A Proxy rather than a hand-written delegate: it forwards every property (readonly `name`, optional
 * `watchKernelBans`, methods added later) unchanged, and times only `ops`, including calls that reject.
 * Durations come from the monotonic clock: a wall-clock step must not show up as a slow call.
 */
function timeMethods<T extends object>(target: T, ops: ReadonlySet<string>, observe: (op: string, seconds: number) => void): T {
  const wrapped = new Map<string, unknown>();
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof property !== 'string' || !ops.has(property) || typeof value !== 'function') return value;
      let timed = wrapped.get(property);
      if (!timed) {
        timed = (...args: unknown[]): unknown => {
          const started = performance.now();
          const done = () => observe(property, (performance.now() - started) / 1000);
          let result: unknown;
          try {
            result = Reflect.apply(value, object, args);
          } catch (error) {
            done();
            throw error;
          }
          if (result instanceof Promise) return result.finally(done);
          done();
          return result;
        };
        wrapped.set(property, timed);
      }
      return timed;
    },
  });
}
