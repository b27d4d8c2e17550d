import type { Config } from '../config/schema.js';
import { rulesFromConfig, type RuleSpec } from '../detectors/rules/index.js';
import type { Store } from '../store/types.js';
import { FleetRules, type FleetRulesOptions, type FleetStore } from './rules.js';

export { FleetRules, type FleetRulesOptions, type FleetRulesStats, type FleetStore } from './rules.js';
export { slidingEstimate, windowStartOf } from './windows.js';

/** The enabled `scope: fleet` rules of a config. */
export function fleetRuleSpecs(config: Config): RuleSpec[] {
  return rulesFromConfig(config).filter((rule) => config.rules[rule.name]?.scope === 'fleet');
}

function isFleetStore(store: Store): store is Store & FleetStore {
  return store.addFleetCounts !== undefined && store.claimFleetFinding !== undefined && store.pruneFleetCounts !== undefined;
}

/**
 * The fleet counters of a daemon, or undefined when the config has no fleet rule. A store that cannot count
 * for the fleet (the config check makes that PostgreSQL) leaves the fleet rules to the node's own engine, with
 * a warning: they then count this node's events alone.
 */
export function createFleetRules(
  config: Config,
  store: Store,
  options: Omit<FleetRulesOptions, 'rules' | 'store' | 'node'>,
): FleetRules | undefined {
  const rules = fleetRuleSpecs(config);
  if (rules.length === 0) return undefined;
  if (!isFleetStore(store)) {
    options.logger.warn({ rules: rules.map((r) => r.name) }, 'fleet: this store keeps no fleet counters; fleet-wide rules count this node\'s events alone');
    return undefined;
  }
  return new FleetRules({ ...options, rules, store, node: config.node ?? 'sipwarden' });
}
