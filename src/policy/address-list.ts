import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { parseCidr, PrefixSet } from '../core/ip.js';

export interface ListProblem {
  source: string;
  line?: number;
  message: string;
}

/**
 * An allow or trunk list: addresses and prefixes from the config plus `file:` lists. A bad line in a file
 * is reported and skipped, never fatal, so a typo in a customer list cannot stop protection. Files reload
 * when they change (fs.watch plus an mtime poll, since editors replace files by rename).
 */
export class AddressList {
  private set = new PrefixSet();
  private readonly files: string[] = [];
  private readonly inline: string[] = [];
  /** Entries kept in the store (the fleet's shared allowlist), set at run time. */
  private shared: string[] = [];
  private readonly mtimes = new Map<string, number>();
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    entries: readonly string[],
    private readonly onProblem: (problem: ListProblem) => void = () => {},
    private readonly onReload: (file: string, size: number) => void = () => {},
  ) {
    for (const entry of entries) {
      if (entry.startsWith('file:')) this.files.push(entry.slice(5));
      else this.inline.push(entry);
    }
    this.rebuild();
  }

  /** The matching entry (`10.0.0.0/8`), or null. */
  match(ip: string): string | null {
    return this.set.match(ip);
  }

  get size(): number {
    return this.set.size;
  }

  /** Every address and prefix now in the list (config entries and file contents). */
  entries(): string[] {
    return [...this.set.entries()];
  }

  /**
   * Replaces the entries that come from the store (`sipwarden allow add`), keeping the config's and the files'.
   * Returns whether anything changed. Entries that do not parse are skipped with a problem.
   */
  setShared(entries: readonly string[]): boolean {
    const sorted = [...entries].sort();
    if (sorted.length === this.shared.length && sorted.every((e, i) => e === this.shared[i])) return false;
    this.shared = sorted;
    this.rebuild();
    return true;
  }

  private rebuild(): void {
    const next = new PrefixSet();
    for (const entry of this.inline) next.add(parseCidr(entry));
    for (const entry of this.shared) {
      try {
        next.add(parseCidr(entry));
      } catch {
        this.onProblem({ source: 'store', message: `"${entry}" is not an address or prefix; skipped` });
      }
    }
    for (const file of this.files) {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
        this.mtimes.set(file, statSync(file).mtimeMs);
      } catch (error) {
        this.onProblem({ source: file, message: `cannot read ${this.name} list: ${(error as Error).message}` });
        continue;
      }
      text.split('\n').forEach((raw, index) => {
        const line = raw.replace(/#.*/, '').trim();
        if (line === '') return;
        try {
          next.add(parseCidr(line));
        } catch {
          this.onProblem({ source: file, line: index + 1, message: `"${line}" is not an address or prefix; skipped` });
        }
      });
    }
    this.set = next;
  }

  /** Starts watching the `file:` lists; `stop` ends it. */
  watch(pollMs = 5000): void {
    if (this.files.length === 0) return;
    const check = (): void => {
      let changed = false;
      for (const file of this.files) {
        let mtime = -1;
        try {
          mtime = statSync(file).mtimeMs;
        } catch {
          mtime = -1;
        }
        if (mtime !== (this.mtimes.get(file) ?? -1)) changed = true;
      }
      if (!changed) return;
      this.rebuild();
      for (const file of this.files) this.onReload(file, this.set.size);
    };
    for (const file of this.files) {
      try {
        this.watchers.push(watch(file, { persistent: false }, () => setTimeout(check, 50).unref()));
      } catch {
        // The file may not exist yet; the poll below picks it up when it appears.
      }
    }
    this.timer = setInterval(check, pollMs);
    this.timer.unref();
  }

  stop(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
  }
}
