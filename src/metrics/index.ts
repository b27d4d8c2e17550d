export { ALERT_OUTCOMES, LATENCY_BUCKETS, Metrics, NO_RULE, type AlertOutcome, type MetricsOptions } from './metrics.js';
export { OTHER } from './labels.js';
export { TIMED_ENFORCER_OPS, timedEnforcer, timedStore } from './timed.js';
