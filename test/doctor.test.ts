import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canCreateNetns, createNetns } from '../src/enforcers/testing/netns.js';
import { CLI, tempDir } from './helpers.js';

const skip = canCreateNetns() ? false : 'needs root and network namespaces (ip netns)';

describe('sipwarden doctor (inside a network namespace)', { skip }, () => {
  const ns = skip ? undefined : createNetns('sw-doctor');
  after(() => ns?.destroy());
  const dir = tempDir('sw-doctor-');

  function doctor(enforce: string): { status: number | null; out: string } {
    const config = join(dir, `c${Math.random()}.yaml`);
    writeFileSync(config, [
      `store: { sqlite: ${join(dir, 'sw.db')} }`,
      `sources: [{ id: ast, type: file, path: ${join(dir, 'missing.log')}, format: asterisk }]`,
      `enforce: ${enforce}`,
    ].join('\n'));
    const r = spawnSync('ip', ['netns', 'exec', ns!.name, process.execPath, CLI, 'doctor', '--config', config], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  it('nftables: binary, privileges and kernel support ok; says the table is not installed yet and the source is missing', () => {
    const { status, out } = doctor('{ backend: nftables }');
    assert.equal(status, 0, out);
    assert.match(out, /ok {4}nftables v/);
    assert.match(out, /ok {4}kernel supports interval sets with timeouts/);
    assert.match(out, /warn {2}table inet sipwarden is not installed yet\n {6}fix: start the daemon/);
    assert.match(out, /warn {2}source ast: .*missing\.log cannot be read now \(ENOENT\)/);
    assert.doesNotMatch(ns!.exec(['nft', 'list', 'ruleset']), /sipwarden_doctor/, 'the probe (nft -c) commits nothing');
  });

  it('warns about a chain of another tool that runs before sipwarden', () => {
    ns!.exec(['nft', 'add', 'table', 'inet', 'other']);
    ns!.exec(['nft', 'add', 'chain', 'inet', 'other', 'early', '{ type filter hook prerouting priority -350; }']);
    const { out } = doctor('{ backend: nftables }');
    assert.match(out, /warn {2}chain inet other early hooks prerouting at priority -350/);
  });

  it('a command hook that is not executable is a failure with the fix', () => {
    const { status, out } = doctor(`{ backend: command, command: { path: ${join(dir, 'nope.sh')} } }`);
    assert.equal(status, 1);
    assert.match(out, /FAIL {2}command hook .*nope\.sh is not an executable file\n {6}fix: fix enforce\.command\.path/);
  });
});
