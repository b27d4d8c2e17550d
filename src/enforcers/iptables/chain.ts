import type { CommandRunner } from '../exec.js';

/**
 * One chain of our own in the filter table, jumped to from INPUT (and FORWARD), for one address family.
 * Shared by the ipset and the plain iptables backends: both own exactly this chain and the jump rules into it,
 * and leave every other rule where it is.
 */
export interface OwnChain {
  family: 4 | 6;
  /** Chain name, e.g. SIPWARDEN. */
  name: string;
  /** Built-in chains that jump to ours. */
  hooks: readonly string[];
  /**
   * Rules that must always be in our chain, in order (argv after `-A NAME`). At least one: `-C` on them is how we
   * learn, without listing the chain, that it was flushed or deleted.
   */
  fixedRules: readonly (readonly string[])[];
}

function iptablesBinary(family: 4 | 6): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}

/** Runs a command and turns its exit code into a boolean, for `-C` probes; other failures are just "no". */
async function succeeds(runner: CommandRunner, argv: readonly string[]): Promise<boolean> {
  try {
    await runner.run(argv);
    return true;
  } catch {
    return false;
  }
}

/**
 * Replaces the content of our chain atomically with `iptables-restore --noflush`: the `:NAME` line creates the
 * chain or flushes it (ours only), and the whole batch commits at once, so packets never see a half-built chain.
 * `extraRules` follow the fixed rules (the plain backend's ban rules).
 */
export async function rebuildChain(runner: CommandRunner, chain: OwnChain, extraRules: readonly string[] = []): Promise<void> {
  const lines = ['*filter', `:${chain.name} - [0:0]`];
  for (const rule of chain.fixedRules) lines.push(`-A ${chain.name} ${rule.map(quoteRestoreWord).join(' ')}`);
  for (const rule of extraRules) lines.push(rule);
  lines.push('COMMIT', '');
  await runner.run([`${iptablesBinary(chain.family)}-restore`, '-w', '--noflush'], lines.join('\n'));
}

/** Runs one `*filter` batch of `-A`/`-D` lines against the existing tables, atomically. */
export async function restoreRules(runner: CommandRunner, family: 4 | 6, rules: readonly string[]): Promise<void> {
  if (rules.length === 0) return;
  await runner.run([`${iptablesBinary(family)}-restore`, '-w', '--noflush'], `*filter\n${rules.join('\n')}\nCOMMIT\n`);
}

/** iptables-restore splits on blanks; a comment with spaces must be quoted. */
function quoteRestoreWord(word: string): string {
  return /\s/.test(word) ? `"${word}"` : word;
}

interface ChainCheck {
  chainIntact: boolean;
  missingHooks: string[];
}

/** Checks our fixed rules and the jump rules with `-C`; the cost does not depend on the number of bans. */
async function checkChain(runner: CommandRunner, chain: OwnChain): Promise<ChainCheck> {
  const bin = iptablesBinary(chain.family);
  let chainIntact = true;
  for (const rule of chain.fixedRules) {
    if (!(await succeeds(runner, [bin, '-w', '-C', chain.name, ...rule]))) {
      chainIntact = false;
      break;
    }
  }
  const missingHooks: string[] = [];
  for (const hook of chain.hooks) {
    if (!(await succeeds(runner, [bin, '-w', '-C', hook, '-j', chain.name]))) missingHooks.push(hook);
  }
  return { chainIntact, missingHooks };
}

/**
 * Inserts the jump at the top of each hook where it is missing. Inserting shifts other rules down by one but keeps
 * their order; the jump must come first, or an earlier ACCEPT (e.g. for port 5060) would let banned sources in.
 */
async function addHooks(runner: CommandRunner, chain: OwnChain, hooks: readonly string[]): Promise<void> {
  for (const hook of hooks) await runner.run([iptablesBinary(chain.family), '-w', '-I', hook, '1', '-j', chain.name]);
}

/** Removes every jump into our chain (duplicates too), then the chain; absent objects are fine. */
export async function removeChain(runner: CommandRunner, chain: OwnChain): Promise<void> {
  const bin = iptablesBinary(chain.family);
  for (const hook of ['INPUT', 'FORWARD']) {
    for (let i = 0; i < 100 && (await succeeds(runner, [bin, '-w', '-D', hook, '-j', chain.name])); i++);
  }
  if (await succeeds(runner, [bin, '-w', '-F', chain.name])) await runner.run([bin, '-w', '-X', chain.name]);
}

/** Makes the chain and its hooks exist; returns what had to be created (empty when all was in place). */
export async function ensureChain(
  runner: CommandRunner,
  chain: OwnChain,
  rebuild: () => Promise<void> = () => rebuildChain(runner, chain),
): Promise<string[]> {
  const check = await checkChain(runner, chain);
  const repaired: string[] = [];
  if (!check.chainIntact) {
    await rebuild();
    repaired.push(`${iptablesBinary(chain.family)} chain ${chain.name}`);
  }
  if (check.missingHooks.length > 0) {
    await addHooks(runner, chain, check.missingHooks);
    repaired.push(...check.missingHooks.map((hook) => `${iptablesBinary(chain.family)} jump ${hook} -> ${chain.name}`));
  }
  return repaired;
}
