import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Wakes the tail loop when the log may have changed. It watches the DIRECTORY, not the file: inotify on a
 * directory reports writes to the files in it and also the create and rename that rotation does, and it
 * survives the file being replaced. Events for files whose name does not start with the log's name are
 * ignored, so a busy /var/log does not keep us spinning; `messages.1` still counts, because a writer may
 * append to the rotated file until it reopens. Polling every `pollMs` is the safety net for file systems
 * without inotify (NFS, some containers) and for a directory that does not exist yet.
 */
export class Waker {
  private readonly dir: string;
  private readonly base: string;
  private watcher: FSWatcher | undefined;
  /** An event arrived while nobody was waiting; the next wait returns at once, so no wake-up is lost. */
  private pending = false;
  private wake: (() => void) | undefined;

  constructor(
    path: string,
    private readonly pollMs: number,
    private readonly signal: AbortSignal,
  ) {
    this.dir = dirname(path);
    this.base = basename(path);
  }

  /**
   * Start watching, if not watching already. Call it before the first look at the file: bytes written before
   * the watch exists raise no event. For the same reason a watch set up anew makes the next wait return at once.
   */
  watch(): void {
    if (this.watcher !== undefined || this.signal.aborted) return;
    try {
      this.watcher = watch(this.dir, (_event, filename) => this.onEvent(filename));
    } catch {
      // No directory yet, or no inotify watches left (ENOSPC): polling covers it and the next wait retries.
      return;
    }
    this.watcher.on('error', () => {
      this.watcher?.close();
      this.watcher = undefined;
      this.onEvent(null);
    });
    this.pending = true;
  }

  /** Resolve on the next relevant file-system event, after `pollMs`, or when the signal aborts. */
  wait(): Promise<void> {
    this.watch();
    if (this.pending || this.signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', done);
        this.wake = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      this.signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.wake?.();
  }

  private onEvent(filename: string | null): void {
    if (filename !== null && !filename.startsWith(this.base)) return;
    if (this.wake !== undefined) this.wake();
    else this.pending = true;
  }
}
