/**
 * Label values that Prometheus may see. Each label draws from a fixed set known at start-up (event kinds,
 * source ids and rule names from the config, method names); anything else is counted as `other`. An address,
 * an account or a User-Agent never becomes a label: an attacker who could choose label values could create a
 * new time series per packet and exhaust the memory of sipwarden and of the Prometheus server scraping it.
 */
export const OTHER = 'other';

export class LabelSet {
  private readonly allowed: ReadonlySet<string>;

  constructor(values: Iterable<string>) {
    this.allowed = new Set(values);
  }

  /** The value itself when it belongs to the set, else `other`. */
  bound(value: string): string {
    return this.allowed.has(value) ? value : OTHER;
  }
}
