import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { swError } from '../../core/errors.js';

export interface InstallOptions {
  /** The file system to install into (default `/`); a package build or a test passes a staging directory. */
  root?: string;
  /** Print what would be done, write nothing. */
  dryRun?: boolean;
  /** Replace a unit file that differs from this version's. The config is never replaced. */
  force?: boolean;
  /** commander's `--no-reload`: false skips `systemctl daemon-reload`. */
  reload?: boolean;
}

/** Paths as the installed system sees them; written under `root`. */
const UNIT_PATH = '/etc/systemd/system/sipwarden.service';
const CONFIG_PATH = '/etc/sipwarden/sipwarden.yaml';
const STATE_DIR = '/var/lib/sipwarden';
const TEMPLATE_EXEC = '/usr/bin/sipwarden';

/**
 * The PATH systemd gives services. The bin script starts Node through `env node`, so a Node found elsewhere
 * (/opt/node/bin) must be named in the unit, or the service fails with "env: node: not found".
 */
const SYSTEMD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Directories the unit's sandbox hides (ProtectHome=, PrivateTmp=): a checkout there cannot start. */
const HIDDEN_FROM_SERVICE = ['/home/', '/root/', '/run/user/', '/tmp/', '/var/tmp/'];

/** The checkout this module was loaded from: the nearest directory up with sipwarden's package.json. */
function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sipwarden') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw swError('SW_ERR_NOT_FOUND', `no sipwarden package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The packaged unit with ExecStart on this checkout's bin/sipwarden, and Node's directory on PATH if needed. */
export function renderUnit(template: string, bin: string, nodeDir: string): string {
  if (!template.includes(`ExecStart=${TEMPLATE_EXEC} `)) throw swError('SW_ERR_NOT_FOUND', `packaging/sipwarden.service has no ExecStart=${TEMPLATE_EXEC}`);
  const path = SYSTEMD_PATH.includes(nodeDir) ? '' : `Environment=PATH=${[nodeDir, ...SYSTEMD_PATH].join(':')}\n`;
  return template.replace(`ExecStart=${TEMPLATE_EXEC} `, `${path}ExecStart=${bin} `);
}

type Step = { done: string; planned: string; path: string; note?: string };

export async function installCommand(options: InstallOptions): Promise<void> {
  const root = resolve(options.root ?? '/');
  if (existsSync(root) && !statSync(root).isDirectory()) throw swError('SW_ERR_ARGUMENT', `--root ${root} is not a directory`);
  const dryRun = options.dryRun === true;
  const onHost = root === '/';
  const at = (path: string) => join(root, path);
  const checkout = checkoutRoot();
  const bin = realpathSync(join(checkout, 'bin', 'sipwarden'));
  const unit = renderUnit(await readFile(join(checkout, 'packaging', 'sipwarden.service'), 'utf8'), bin, dirname(process.execPath));
  const steps: Step[] = [];
  const warnings: string[] = [];

  const existingUnit = existsSync(at(UNIT_PATH)) ? await readFile(at(UNIT_PATH), 'utf8') : undefined;
  if (existingUnit === unit) {
    steps.push({ done: 'unchanged', planned: 'unchanged', path: UNIT_PATH });
  } else if (existingUnit !== undefined && options.force !== true) {
    steps.push({ done: 'kept', planned: 'would keep', path: UNIT_PATH, note: 'it differs from this version; --force replaces it' });
  } else {
    if (!dryRun) await writeFileWithMode(at(UNIT_PATH), unit, 0o644, 0o755);
    const fresh = existingUnit === undefined;
    const note = `ExecStart=${bin} run --config ${CONFIG_PATH}`;
    steps.push({ done: fresh ? 'wrote' : 'replaced', planned: fresh ? 'would write' : 'would replace', path: UNIT_PATH, note });
  }

  // Never overwrite a config, not even with --force: it is the operator's, and holds their allowlist.
  if (existsSync(at(CONFIG_PATH))) {
    steps.push({ done: 'kept', planned: 'would keep', path: CONFIG_PATH, note: 'existing config' });
  } else {
    const example = await readFile(join(checkout, 'examples', 'sipwarden.yaml'), 'utf8');
    if (!dryRun) await writeFileWithMode(at(CONFIG_PATH), example, 0o640, 0o750);
    steps.push({ done: 'wrote', planned: 'would write', path: CONFIG_PATH, note: 'the example config: edit it' });
  }

  if (existsSync(at(STATE_DIR))) {
    steps.push({ done: 'exists', planned: 'exists', path: STATE_DIR });
  } else {
    if (!dryRun) {
      await mkdir(at(STATE_DIR), { recursive: true });
      await chmod(at(STATE_DIR), 0o750); // mkdir's mode is filtered by the umask
    }
    steps.push({ done: 'created', planned: 'would create', path: STATE_DIR, note: 'mode 0750' });
  }

  const unitChanged = steps[0]?.done === 'wrote' || steps[0]?.done === 'replaced';
  let reloaded = false;
  if (onHost && !dryRun && unitChanged && options.reload !== false) {
    const failure = await systemctl(['daemon-reload']);
    reloaded = failure === undefined;
    if (failure !== undefined && failure !== NO_SYSTEMCTL) warnings.push(`systemctl daemon-reload failed (${failure}); run it yourself`);
  }
  if (HIDDEN_FROM_SERVICE.some((dir) => bin.startsWith(dir))) {
    warnings.push(`${bin} is inside a directory the unit's sandbox hides (ProtectHome=, PrivateTmp=): install sipwarden under /opt or /usr/local`);
  }

  const out: string[] = [`sipwarden install${dryRun ? ' --dry-run (nothing written)' : ''} into ${root}`];
  for (const step of steps) {
    out.push(`  ${(dryRun ? step.planned : step.done).padEnd(14)}${at(step.path)}${step.note ? `  (${step.note})` : ''}`);
  }
  if (reloaded) out.push(`  ${'reloaded'.padEnd(14)}systemd (systemctl daemon-reload)`);
  for (const warning of warnings) out.push(`warning: ${warning}`);
  const next = [
    `edit ${CONFIG_PATH}, then check it: sipwarden config check --config ${CONFIG_PATH}`,
    ...(reloaded ? [] : ['systemctl daemon-reload']),
    'systemctl enable --now sipwarden',
    'sipwarden token create --role admin --name me    (a token for the API and the web console)',
    'journalctl -u sipwarden -f                         (its log)',
  ];
  out.push('', 'Next steps:', ...next.map((step, i) => `  ${i + 1}. ${step}`));
  process.stdout.write(`${out.join('\n')}\n`);
}

async function writeFileWithMode(path: string, text: string, mode: number, dirMode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: dirMode });
  await writeFile(path, text, { mode });
  await chmod(path, mode); // writeFile's mode applies only to a new file, and through the umask
}

const NO_SYSTEMCTL = 'systemctl not found';

/** Runs systemctl (argv, no shell); resolves undefined on success, else why it failed. */
function systemctl(args: string[]): Promise<string | undefined> {
  return new Promise((done) => {
    execFile('systemctl', args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (!error) return done(undefined);
      const code = (error as NodeJS.ErrnoException).code;
      done(code === 'ENOENT' ? NO_SYSTEMCTL : stderr.trim() || error.message);
    });
  });
}
