import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, tempDir } from './helpers.js';

/**
 * Exposure score `systemd-analyze security` gives the unit: 2.3 measured with systemd 252 (0 is a fully
 * sandboxed service, 10 an unprotected one). The margin allows for other systemd versions weighting a check
 * differently; anything that loosens the sandbox by a real step (a user namespace, more capabilities, write
 * access to the system) pushes it past this.
 */
const MAX_EXPOSURE = 2.5;

const analyzer = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const skip = analyzer.error ? 'systemd-analyze is not installed (Debian package systemd)' : false;

function analyze(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The unit as `sipwarden install` writes it: ExecStart on this checkout's bin/sipwarden, which exists. */
function installedUnit(): string {
  const root = tempDir('sw-unit-');
  const r = cli(['install', '--root', root, '--no-reload']);
  assert.equal(r.status, 0, r.stderr);
  return join(root, 'etc/systemd/system/sipwarden.service');
}

/** Lines of verify's output about our unit (it may also talk about the host's own units). */
const aboutUnit = (output: string) => output.split('\n').filter((line) => line.includes('sipwarden.service'));

describe('packaging/sipwarden.service', { skip }, () => {
  it('passes systemd-analyze verify as installed', () => {
    const r = analyze(['verify', installedUnit()]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(aboutUnit(r.stderr + r.stdout), []);
  });

  it('verify does catch a broken unit (the check above is live)', () => {
    const unit = installedUnit();
    writeFileSync(unit, readFileSync(unit, 'utf8').replace(/^ProtectSystem=strict$/m, 'ProtectSytem=strict'));
    const r = analyze(['verify', unit]);
    assert.match(aboutUnit(r.stderr + r.stdout).join('\n'), /Unknown key name 'ProtectSytem'|Unknown key 'ProtectSytem'/);
  });

  it(`has an exposure of at most ${MAX_EXPOSURE} in systemd-analyze security`, () => {
    const r = analyze(['security', '--offline=yes', installedUnit()]);
    const score = /Overall exposure level for sipwarden\.service: (\d+(?:\.\d+)?) (\w+)/.exec(r.stdout);
    assert.ok(score, `no exposure level in:\n${r.stdout}\n${r.stderr}`);
    assert.ok(Number(score[1]) <= MAX_EXPOSURE, `exposure ${score[1]} ${score[2]}:\n${r.stdout}`);
    assert.equal(score[2], 'OK');
  });

  it('keeps the hardening the design asks for, and only the capabilities the firewall backends need', () => {
    const text = readFileSync(installedUnit(), 'utf8');
    const directives = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (match) directives.set(match[1] as string, [...(directives.get(match[1] as string) ?? []), match[2] as string]);
    }
    const value = (key: string) => directives.get(key)?.join(' ');
    assert.equal(value('Type'), 'simple');
    assert.equal(value('Restart'), 'on-failure');
    assert.deepEqual(value('CapabilityBoundingSet')?.split(' ').sort(), ['CAP_DAC_READ_SEARCH', 'CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE']);
    assert.equal(value('AmbientCapabilities'), undefined, 'root needs no ambient capabilities');
    assert.equal(value('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6 AF_NETLINK');
    assert.equal(value('SystemCallFilter'), '@system-service');
    assert.equal(value('ProtectSystem'), 'strict');
    assert.equal(value('StateDirectory'), 'sipwarden');
    assert.match(value('ReadWritePaths') ?? '', /^\/var\/lib\/sipwarden\b/);
    assert.equal(value('UMask'), '0077');
    for (const key of [
      'NoNewPrivileges', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules',
      'ProtectKernelLogs', 'ProtectControlGroups', 'RestrictNamespaces', 'LockPersonality',
    ]) {
      assert.equal(value(key), 'yes', key);
    }
    assert.equal(value('SystemCallArchitectures'), 'native');
    // V8 writes JIT code into memory and then runs it: MemoryDenyWriteExecute=yes stops Node.js from starting.
    assert.equal(value('MemoryDenyWriteExecute'), undefined);
    assert.match(text, /^# MemoryDenyWriteExecute= is left out on purpose: V8/m);
  });
});
