import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../../core/testing/ports.js';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A real PostgreSQL server for tests, from Debian's `postgresql` package: `initdb` in a temporary directory,
 * then `postgres` listening on a Unix socket in that directory and on 127.0.0.1 at a free port. Durability on
 * disk is off (fsync, full_page_writes) because the data dies with the test. PostgreSQL refuses to
 * run as root, so under root the server runs as the `postgres` system user. Commits still reach the kernel
 * before they are acknowledged (synchronous_commit stays on), so killing the server loses no committed row.
 *
 * TCP logins need the password (scram-sha-256), so tests exercise a URL with credentials like production;
 * socket logins are trusted, for the test's own set-up queries.
 */

const BIN_ROOT = '/usr/lib/postgresql';
const READY = /database system is ready to accept connections/;
const START_TIMEOUT_MS = 30_000;

export interface PostgresServer {
  readonly pid: number;
  readonly port: number;
  readonly password: string;
  /** A URL for the superuser over TCP, with the password. */
  url(database?: string): string;
  /** Creates an empty database with a fresh name and returns its URL (about 200 ms: it checkpoints). */
  createDatabase(): Promise<string>;
  /**
   * Creates an empty schema in the `postgres` database and returns a URL whose connections use it (`search_path`
   * in the URL's options): a fresh store in about 1 ms, for suites that need one per test.
   */
  createSchema(): Promise<string>;
  /** Runs SQL as the superuser over the socket (set-up and inspection). */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** Kills the server and its backends at once (SIGKILL), as a crash or an outage would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory, after `kill` or `stop`. */
  restart(): Promise<void>;
  /** Immediate shutdown, then the directory is removed. */
  stop(): Promise<void>;
}

/** The newest installed server's bin directory, or undefined when the package is not installed. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(BIN_ROOT)) return undefined;
  const versions = readdirSync(BIN_ROOT).filter((v) => /^\d+$/.test(v) && existsSync(join(BIN_ROOT, v, 'bin', 'initdb')));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(BIN_ROOT, newest, 'bin');
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresSkipReason(): string | undefined {
  if (postgresBinDir() === undefined) return `PostgreSQL server binaries not found under ${BIN_ROOT} (apt-get install postgresql)`;
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root without a postgres system user';
  return undefined;
}

/** uid and gid to run the server with: the postgres user under root, else this process's own. */
function serverIdentity(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}


export interface PostgresServerOptions {
  /** Keep fsync and full-page writes on, as in production (benchmarks); tests leave them off for speed. */
  durable?: boolean;
  /**
   * Run in this network namespace (a name under /run/netns) and listen on `host` there, not on 127.0.0.1: fleet
   * tests reach the server from the nodes' namespaces over veth links, never through a host interface.
   */
  netns?: { name: string; host: string };
}

export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error(postgresSkipReason());
  const identity = serverIdentity();
  const dir = mkdtempSync(join(tmpdir(), 'sw-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (identity.uid !== undefined && identity.gid !== undefined) {
    chownSync(dir, identity.uid, identity.gid);
    chownSync(pwfile, identity.uid, identity.gid);
  }
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '--locale=C', '-E', 'UTF8'],
    { ...identity, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
  rmSync(pwfile);
  // initdb lets TCP logins in from loopback only; in its namespace the server also takes the nodes on its links.
  if (options.netns !== undefined) appendFileSync(join(data, 'pg_hba.conf'), 'host all all samenet scram-sha-256\n');

  const port = await freePort();
  const host = options.netns?.host ?? '127.0.0.1';
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const args = [
      '-D', data, '-p', String(port), '-c', `listen_addresses=${host}`, '-c', `unix_socket_directories=${dir}`,
      '-c', 'max_connections=200', ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']),
    ];
    // Its own process group, so `kill` can take the backends down with the postmaster, as a crash would.
    // nsenter enters as root and drops to the server's identity itself (-S/-G); it execs, so the pid is the server's.
    const started = options.netns === undefined
      ? spawn(join(bin, 'postgres'), args, { ...identity, detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('nsenter', [
        `--net=/run/netns/${options.netns.name}`, ...(identity.uid === undefined ? [] : ['-S', String(identity.uid), '-G', String(identity.gid)]),
        join(bin, 'postgres'), ...args,
      ], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`postgres did not start within ${START_TIMEOUT_MS} ms:\n${log}`)), START_TIMEOUT_MS);
      started.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        log += chunk;
        if (READY.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited (${code}) before it was ready:\n${log}`));
      });
    });
    // Keep draining stderr so the server never blocks on a full pipe.
    started.stderr?.resume();
  };
  const exited = (): Promise<void> =>
    new Promise((resolve) => (child === undefined || child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  // A test runner that dies must not leave the server behind.
  const killGroup = (): void => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
  };
  const killOnExit = (): void => {
    try {
      killGroup();
    } catch {
      // Already gone.
    }
  };
  process.once('exit', killOnExit);
  await launch();

  let created = 0;
  const socketQuery = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> => {
    const client = new pg.Client({ host: dir, port, user: 'postgres', database });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  const url = (database = 'postgres'): string => `postgres://postgres:${password}@${host}:${port}/${database}`;

  return {
    get pid() {
      return child?.pid ?? 0;
    },
    port,
    password,
    url,
    async createDatabase() {
      const name = `sw_test_${++created}`;
      // FILE_COPY clones the tiny template's files; the default WAL_LOG strategy writes every page to the WAL.
      await socketQuery(`CREATE DATABASE ${name} TEMPLATE template0 STRATEGY FILE_COPY`);
      return url(name);
    },
    async createSchema() {
      const name = `sw_test_${++created}`;
      await socketQuery(`CREATE SCHEMA ${name}`);
      return `${url()}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
    query: socketQuery,
    async kill() {
      // Backends call setsid(), so they are not in the postmaster's group, and a backend that has not yet noticed
      // its postmaster died still answers its connection. Stopped first, the postmaster forks no more; then its
      // children die with it, as in a crash of the machine.
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGSTOP');
        const backends = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
        for (const pid of backends) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // Exited meanwhile.
          }
        }
      }
      killGroup();
      await exited();
    },
    async restart() {
      await exited();
      // Backends of a killed server notice their postmaster is gone within moments; until they have, the old
      // shared memory is still attached and a new postmaster refuses to start.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (error) {
          if (attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    async stop() {
      // SIGQUIT is PostgreSQL's immediate shutdown: no shutdown checkpoint, as the data is deleted next.
      child?.kill('SIGQUIT');
      await exited();
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
