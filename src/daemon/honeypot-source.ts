import type { Config, HoneypotSourceConfig } from '../config/schema.js';
import { swError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import type { EventSource } from './sources.js';

/** The SIP honeypot: its server answers bait traffic, records it in the store and yields events. */
export function bindHoneypotSource(spec: HoneypotSourceConfig, _config: Config, _store: Store, _sensor: string): EventSource {
  throw swError('SW_ERR_CONFIG', `source ${spec.id}: type honeypot is not implemented yet`);
}
