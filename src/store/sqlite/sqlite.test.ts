import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isSipwardenError } from '../../core/errors.js';
import { sampleDecision, sampleEvent, storeContract } from '../contract.js';
import { openSqliteDatabase, openSqliteStore } from './index.js';
import { MIGRATIONS, type Migration } from './schema.js';

let dir: string;
let files = 0;
const freshPath = () => join(dir, `store-${++files}.db`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sipwarden-store-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

storeContract('sqlite file', () => openSqliteStore(freshPath()));
storeContract('sqlite :memory:', () => openSqliteStore(':memory:'));

const version = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;

describe('sqlite store: opening', () => {
  it('creates the parent directory and sets WAL, NORMAL sync, busy timeout and foreign keys', () => {
    const db = openSqliteDatabase(join(dir, 'nested', 'deeper', 'sw.db'));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 1);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 16_384);
    assert.equal(version(db), MIGRATIONS.length);
    db.close();
  });

  it('fails with SW_ERR_STORE when the path cannot be a database', async () => {
    const path = freshPath();
    await writeFile(path, 'this is not a database, just text that is long enough to have a header'.repeat(10));
    assert.throws(() => openSqliteStore(path), (e) => isSipwardenError(e, 'SW_ERR_STORE'));
  });
});

describe('sqlite store: migrations', () => {
  const extraStep: Migration = {
    description: 'test: add a column',
    up: (db) => db.exec('ALTER TABLE audit ADD COLUMN note TEXT'),
  };

  it('upgrades an older database step by step and keeps its data', async () => {
    const path = freshPath();
    const old = openSqliteStore(path);
    const ban = await old.addDecision(sampleDecision());
    await old.close();

    const db = openSqliteDatabase(path, {}, [...MIGRATIONS, extraStep]);
    assert.equal(version(db), MIGRATIONS.length + 1);
    assert.ok((db.pragma('table_info(audit)') as { name: string }[]).some((c) => c.name === 'note'));
    assert.equal((db.prepare('SELECT count(*) AS n FROM decisions WHERE id = ?').get(ban.id) as { n: number }).n, 1);
    db.close();
  });

  it('brings a database made by the first step only up to the current version', () => {
    const path = freshPath();
    openSqliteDatabase(path, {}, MIGRATIONS.slice(0, 1)).close();
    const db = openSqliteDatabase(path);
    assert.equal(version(db), MIGRATIONS.length);
    db.close();
  });

  it('refuses a database from a newer sipwarden, naming both versions', () => {
    const path = freshPath();
    openSqliteDatabase(path, {}, [...MIGRATIONS, extraStep]).close();
    assert.throws(
      () => openSqliteStore(path),
      (e) =>
        isSipwardenError(e, 'SW_ERR_STORE_MIGRATION') &&
        e.message.includes(String(MIGRATIONS.length + 1)) &&
        e.message.includes(String(MIGRATIONS.length)),
    );
  });

  it('rolls a failed step back and reports which step failed', () => {
    const path = freshPath();
    const broken: Migration = { description: 'test: broken', up: (db) => db.exec('CREATE TABLE half (x); SELECT * FROM nowhere') };
    assert.throws(
      () => openSqliteDatabase(path, {}, [...MIGRATIONS, broken]),
      (e) => isSipwardenError(e, 'SW_ERR_STORE_MIGRATION') && e.message.includes('test: broken'),
    );
    const db = new Database(path);
    assert.equal(version(db), MIGRATIONS.length);
    const half = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get() as { n: number };
    assert.equal(half.n, 0);
    db.close();
  });
});

describe('sqlite store: read-only and shared use', () => {
  it('reads through a read-only store; its writes fail with SW_ERR_STORE', async () => {
    const path = freshPath();
    const writer = openSqliteStore(path);
    await writer.appendEvents([sampleEvent()]);
    const reader = openSqliteStore(path, { readonly: true });
    assert.equal((await reader.events({})).length, 1);
    await assert.rejects(reader.appendEvents([sampleEvent()]), (e) => isSipwardenError(e, 'SW_ERR_STORE'));
    await assert.rejects(reader.addDecision(sampleDecision()), (e) => isSipwardenError(e, 'SW_ERR_STORE'));
    await reader.close();
    await writer.close();
  });

  it('a read-only open of a missing file fails and creates nothing', () => {
    const path = join(dir, 'missing', 'sw.db');
    assert.throws(() => openSqliteStore(path, { readonly: true }), (e) => isSipwardenError(e, 'SW_ERR_STORE'));
  });

  it('a decision added by one instance is seen by the other (daemon and CLI)', async () => {
    const path = freshPath();
    const daemon = openSqliteStore(path);
    const cli = openSqliteStore(path);
    const before = await daemon.decisionsAfter(0);
    assert.deepEqual(before, []);
    const manual = await cli.addDecision(sampleDecision({ origin: 'manual', actor: 'root@pbx1', target: '198.51.100.0/24' }));
    assert.deepEqual(await daemon.decisionsAfter(0), [manual]);
    await cli.revokeDecision(manual.id, 'root@pbx1', 'test over', manual.at + 1);
    assert.deepEqual((await daemon.revokedSince(manual.at)).map((d) => d.id), [manual.id]);
    await daemon.appendEvents([sampleEvent({ ip: '198.51.100.7' })]);
    assert.equal((await cli.events({ cidr: '198.51.100.0/24' })).length, 1);
    await cli.close();
    await daemon.close();
  });

  it('a closed store fails with SW_ERR_STORE naming the operation', async () => {
    const store = openSqliteStore(':memory:');
    await store.close();
    await assert.rejects(store.events({}), (e) => isSipwardenError(e, 'SW_ERR_STORE') && e.message.includes('events'));
  });
});
