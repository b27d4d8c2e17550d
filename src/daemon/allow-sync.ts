import type { Logger } from '../core/logger.js';
import type { Enforcer } from '../enforcers/types.js';
import type { AddressList } from '../policy/address-list.js';
import type { Store } from '../store/types.js';

/**
 * Keeps the allowlist one list everywhere: the config's entries, the `file:` lists as they are now and the entries
 * kept in the store (`sipwarden allow add`, any node of a fleet) are what the policy checks and what the kernel's
 * allow sets hold. The caller serialises calls with its other enforcer work.
 */
export class AllowSync {
  /** The list the enforcer holds now; run.ts gave it the config's list at creation. */
  private inKernel: string;

  constructor(
    private readonly allow: AddressList,
    private readonly store: Pick<Store, 'sharedAllow'>,
    private readonly enforcer: Enforcer,
    private readonly logger: Logger,
  ) {
    this.inKernel = allow.entries().join(' ');
  }

  /** Reads the store's entries; a change reaches the policy at once and the kernel through `push`. */
  async load(): Promise<void> {
    const shared = await this.store.sharedAllow();
    if (this.allow.setShared(shared.map((e) => e.cidr))) {
      this.logger.info({ entries: shared.length }, 'shared allowlist loaded from the store');
      await this.push();
    }
  }

  /** Gives the kernel the list in memory, when it differs from what the kernel holds (a reloaded file, say). */
  async push(): Promise<void> {
    const entries = this.allow.entries();
    const key = entries.join(' ');
    if (key === this.inKernel || !this.enforcer.replaceAllow) return;
    await this.enforcer.replaceAllow(entries);
    this.inKernel = key;
    this.logger.info({ entries: entries.length }, 'kernel allowlist updated');
  }
}
