import type { Config, HepSourceConfig } from '../config/schema.js';
import { swError } from '../core/errors.js';
import type { EventSource } from './sources.js';

/** HEP collector: listener (sources/hep) -> decoder -> SIP parser -> wire detectors. */
export function bindHepSource(spec: HepSourceConfig, _config: Config, _sensor: string): EventSource {
  throw swError('SW_ERR_CONFIG', `source ${spec.id}: type hep is not implemented yet`);
}
