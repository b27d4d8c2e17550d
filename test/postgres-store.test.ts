import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSipwardenError } from '../src/core/errors.js';
import { sampleDecision, sampleEvent, storeContract } from '../src/store/contract.js';
import { openPostgresStore, redactPostgresUrl } from '../src/store/postgres/index.js';
import { MIGRATIONS, type Migration } from '../src/store/postgres/schema.js';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../src/store/testing/postgres-server.js';

const skip = postgresSkipReason();
let server: PostgresServer;

before(async () => {
  if (!skip) server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

describe('postgres store', { skip }, () => {
  storeContract('postgres', async () => openPostgresStore(await server.createSchema()));

  describe('migrations', () => {
    const versions = async (url: string) => {
      const database = new URL(url).pathname.slice(1);
      return (await server.query<{ version: number }>('SELECT version FROM schema_version ORDER BY version', [], database)).map((r) => r.version);
    };
    const extraStep: Migration = { description: 'test: add a column', up: async (db) => void (await db.query('ALTER TABLE audit ADD COLUMN note text')) };

    it('five nodes opening a fresh database at once apply each step exactly once', async () => {
      const url = await server.createDatabase();
      const stores = await Promise.all(Array.from({ length: 5 }, () => openPostgresStore(url)));
      assert.deepEqual(await versions(url), MIGRATIONS.map((_, i) => i + 1));
      await Promise.all(stores.map((s) => s.close()));
    });

    it('upgrades an older database step by step and keeps its data', async () => {
      const url = await server.createDatabase();
      const old = await openPostgresStore(url);
      const ban = await old.addDecision(sampleDecision());
      await old.close();
      const upgraded = await openPostgresStore(url, { migrations: [...MIGRATIONS, extraStep] });
      assert.deepEqual(await versions(url), [...MIGRATIONS, extraStep].map((_, i) => i + 1));
      assert.equal((await upgraded.decision(ban.id))?.target, ban.target);
      await upgraded.close();
    });

    it('refuses a database from a newer sipwarden, naming both versions', async () => {
      const url = await server.createDatabase();
      await (await openPostgresStore(url, { migrations: [...MIGRATIONS, extraStep] })).close();
      await assert.rejects(
        openPostgresStore(url),
        (e) => isSipwardenError(e, 'SW_ERR_STORE_MIGRATION') && e.message.includes(`version ${MIGRATIONS.length + 1}`) && e.message.includes(`version ${MIGRATIONS.length} `),
      );
    });

    it('rolls a failed step back and reports which step failed', async () => {
      const url = await server.createDatabase();
      const broken: Migration = { description: 'test: broken', up: async (db) => void (await db.query('CREATE TABLE half (x int); SELECT * FROM nowhere')) };
      await assert.rejects(
        openPostgresStore(url, { migrations: [...MIGRATIONS, broken] }),
        (e) => isSipwardenError(e, 'SW_ERR_STORE_MIGRATION') && e.message.includes('test: broken'),
      );
      assert.deepEqual(await versions(url), MIGRATIONS.map((_, i) => i + 1));
      const half = await server.query("SELECT 1 FROM pg_tables WHERE tablename = 'half'", [], new URL(url).pathname.slice(1));
      assert.equal(half.length, 0);
    });
  });

  describe('connecting', () => {
    it('a wrong password fails with SW_ERR_STORE naming the server, never the password', async () => {
      const wrong = server.url().replace(server.password, 'not-the-Secret-42');
      await assert.rejects(openPostgresStore(wrong), (e) => {
        assert.ok(isSipwardenError(e, 'SW_ERR_STORE'));
        assert.match(e.message, /password authentication failed/);
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
        assert.ok(!e.message.includes('not-the-Secret-42') && !e.message.includes(server.password));
        return true;
      });
    });

    it('an unreachable server fails with SW_ERR_STORE', async () => {
      await assert.rejects(openPostgresStore('postgres://sw:pw-XYZ@127.0.0.1:1/sw', { connectTimeoutMs: 2000 }), (e) =>
        isSipwardenError(e, 'SW_ERR_STORE') && !e.message.includes('pw-XYZ'));
    });

    it('a URL that is not postgres:// is refused without echoing it', async () => {
      await assert.rejects(openPostgresStore('mysql://u:hunter2@db/x'), (e) => isSipwardenError(e, 'SW_ERR_STORE') && !e.message.includes('hunter2'));
      await assert.rejects(openPostgresStore('hunter2'), (e) => isSipwardenError(e, 'SW_ERR_STORE') && !e.message.includes('hunter2'));
      assert.equal(redactPostgresUrl('postgres://sw:hunter2@db1:5433/fleet?sslmode=require'), 'postgres://sw@db1:5433/fleet');
    });
  });

  describe('shared use and outages', () => {
    it('a decision added by one node is seen by another; revocation too', async () => {
      const url = await server.createSchema();
      const [daemon, cli] = [await openPostgresStore(url), await openPostgresStore(url)];
      const manual = await cli.addDecision(sampleDecision({ origin: 'manual', actor: 'root@pbx1', target: '198.51.100.0/24' }));
      assert.deepEqual(await daemon.decisionsAfter(0), [manual]);
      await cli.revokeDecision(manual.id, 'root@pbx1', 'test over', manual.at + 1);
      assert.deepEqual((await daemon.revokedSince(manual.at)).map((d) => d.id), [manual.id]);
      await Promise.all([daemon.close(), cli.close()]);
    });

    it('stores a NUL character (attacker text) as U+FFFD instead of failing the batch', async () => {
      const store = await openPostgresStore(await server.createSchema());
      await store.appendEvents([sampleEvent({ raw: 'REGISTER\0x', userAgent: 'evil\0', account: 'a\0' })]);
      const [stored] = await store.events({});
      assert.deepEqual([stored?.raw, stored?.userAgent, stored?.account], ['REGISTER\uFFFDx', 'evil\uFFFD', 'a\uFFFD']);
      await store.close();
    });

    it('fails with SW_ERR_STORE while the server is down, and works again once it is back', async () => {
      const store = await openPostgresStore(await server.createSchema(), { connectTimeoutMs: 2000 });
      await store.appendEvents([sampleEvent()]);
      await server.kill();
      await assert.rejects(store.events({}), (e) => isSipwardenError(e, 'SW_ERR_STORE') && e.message.includes('events'));
      await server.restart();
      await store.appendEvents([sampleEvent({ account: 'after' })]);
      assert.equal((await store.events({})).length, 2);
      await store.close();
    });

    it('a closed store fails with SW_ERR_STORE naming the operation; closing twice is harmless', async () => {
      const store = await openPostgresStore(await server.createSchema());
      await store.close();
      await store.close();
      await assert.rejects(store.events({}), (e) => isSipwardenError(e, 'SW_ERR_STORE') && e.message.includes('events'));
    });
  });
});
