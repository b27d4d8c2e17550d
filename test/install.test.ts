import assert from 'node:assert/strict';
import { readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { renderUnit } from '../src/cli/commands/install.js';
import { cli, tempDir } from './helpers.js';

/** The checkout: this compiled test sits in <checkout>/<dist>/test. */
const CHECKOUT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = realpathSync(join(CHECKOUT, 'bin/sipwarden'));
const TEMPLATE = readFileSync(join(CHECKOUT, 'packaging/sipwarden.service'), 'utf8');
const EXAMPLE = readFileSync(join(CHECKOUT, 'examples/sipwarden.yaml'), 'utf8');

const UNIT = 'etc/systemd/system/sipwarden.service';
const CONFIG = 'etc/sipwarden/sipwarden.yaml';
const STATE = 'var/lib/sipwarden';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

function install(root: string, ...flags: string[]): string {
  const r = cli(['install', '--root', root, ...flags]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('sipwarden install', () => {
  it('places the unit, the example config and the state directory, with their modes, and says what is next', () => {
    const root = tempDir('sw-install-');
    const out = install(root);
    const unit = readFileSync(join(root, UNIT), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${BIN} run --config /etc/sipwarden/sipwarden\\.yaml$`, 'm'));
    assert.doesNotMatch(unit, /\/usr\/bin\/sipwarden/);
    assert.equal(readFileSync(join(root, CONFIG), 'utf8'), EXAMPLE);
    assert.equal(mode(join(root, UNIT)), '644');
    assert.equal(mode(join(root, CONFIG)), '640', 'the config may hold secrets');
    assert.equal(mode(join(root, 'etc/sipwarden')), '750');
    assert.equal(mode(join(root, STATE)), '750');
    assert.ok(statSync(join(root, STATE)).isDirectory());
    assert.match(out, /wrote .*sipwarden\.service/);
    assert.match(out, /created .*var\/lib\/sipwarden/);
    assert.match(out, /systemctl daemon-reload/);
    assert.match(out, /systemctl enable --now sipwarden/);
    assert.match(out, /sipwarden token create --role admin --name me/);
  });

  it('installs a config that passes config check', () => {
    const root = tempDir('sw-install-');
    install(root);
    const check = cli(['config', 'check', '--config', join(root, CONFIG)]);
    assert.equal(check.status, 0, check.stderr);
  });

  it('is idempotent, and never replaces a config, not even with --force', () => {
    const root = tempDir('sw-install-');
    install(root);
    const edited = `${EXAMPLE}\n# the operator's own allowlist lives here\n`;
    writeFileSync(join(root, CONFIG), edited);
    const unitBefore = statSync(join(root, UNIT));

    const again = install(root);
    assert.match(again, /unchanged .*sipwarden\.service/);
    assert.match(again, /kept .*sipwarden\.yaml/);
    assert.match(again, /exists .*var\/lib\/sipwarden/);
    assert.equal(statSync(join(root, UNIT)).mtimeMs, unitBefore.mtimeMs, 'an unchanged unit is not rewritten');

    install(root, '--force');
    assert.equal(readFileSync(join(root, CONFIG), 'utf8'), edited);
  });

  it('keeps a unit that differs unless --force, which replaces the unit only', () => {
    const root = tempDir('sw-install-');
    install(root);
    const local = readFileSync(join(root, UNIT), 'utf8').replace('Restart=on-failure', 'Restart=always');
    writeFileSync(join(root, UNIT), local);

    const kept = install(root);
    assert.match(kept, /kept .*sipwarden\.service.*--force replaces it/);
    assert.equal(readFileSync(join(root, UNIT), 'utf8'), local);

    const forced = install(root, '--force');
    assert.match(forced, /replaced .*sipwarden\.service/);
    assert.match(readFileSync(join(root, UNIT), 'utf8'), /^Restart=on-failure$/m);
    assert.equal(mode(join(root, UNIT)), '644');
  });

  it('--dry-run prints the plan and writes nothing', () => {
    const root = tempDir('sw-install-');
    const out = install(root, '--dry-run');
    assert.deepEqual(readdirSync(root), []);
    assert.match(out, /would write .*sipwarden\.service/);
    assert.match(out, /would write .*sipwarden\.yaml/);
    assert.match(out, /would create .*var\/lib\/sipwarden/);
  });

  it('refuses a root it cannot write, with an error and exit status 2', () => {
    const file = join(tempDir('sw-install-'), 'not-a-directory');
    writeFileSync(file, '');
    const r = cli(['install', '--root', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^sipwarden: .*not-a-directory/);
  });
});

describe('renderUnit', () => {
  it('points ExecStart at the installed bin and leaves the rest of the unit as packaged', () => {
    const unit = renderUnit(TEMPLATE, '/opt/sipwarden/bin/sipwarden', '/usr/bin');
    assert.equal(unit, TEMPLATE.replace('ExecStart=/usr/bin/sipwarden ', 'ExecStart=/opt/sipwarden/bin/sipwarden '));
  });

  it('puts a Node.js outside systemd\'s PATH on the PATH of the service, since bin/sipwarden runs `env node`', () => {
    const unit = renderUnit(TEMPLATE, '/opt/sipwarden/bin/sipwarden', '/opt/node-v20/bin');
    assert.match(unit, /^Environment=PATH=\/opt\/node-v20\/bin:\/usr\/local\/sbin:\/usr\/local\/bin:\/usr\/sbin:\/usr\/bin:\/sbin:\/bin\nExecStart=\/opt\/sipwarden\/bin\/sipwarden run /m);
  });
});
