import type { Config } from '../../config/schema.js';
import type { RuleSpec } from './engine.js';

export { RuleEngine, type Finding, type RuleProgress, type RuleSpec } from './engine.js';

/** The enabled rules of a config, in the engine's terms. */
export function rulesFromConfig(config: Config): RuleSpec[] {
  return Object.entries(config.rules)
    .filter(([, rule]) => rule.enabled)
    .map(([name, rule]) => ({
      name,
      on: rule.on,
      key: rule.key,
      ...(rule.distinct ? { distinct: rule.distinct } : {}),
      ...(rule.servers ? { servers: rule.servers } : {}),
      threshold: rule.threshold,
      windowMs: rule.window,
      banMs: rule.ban,
      evidence: rule.evidence,
      dryRun: rule.dryRun,
    }));
}
