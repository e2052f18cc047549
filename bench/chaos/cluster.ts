/**
 * A private Graft for the chaos bench, all on loopback and under one temporary folder: a
 * redis-server with an append-only file (restartable with its data), a PostgreSQL cluster
 * (src/runtime/embedded-postgres.ts, restartable), the API and the workers as separate
 * processes run from a build of src/ made for this run (so that a rebuild of ./dist by
 * someone else mid-run cannot change the code under test). Never touches 5432 / 6379.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import pg from 'pg';
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresOptions,
  type RunningPostgres,
} from '../../src/runtime/embedded-postgres.js';
import { probeRedisClient } from '../../src/runtime/infrastructure.js';
import {
  descendants,
  hasMarker,
  launch,
  log,
  processTable,
  signalPid,
  sleep,
  stopProcess,
  type Managed,
} from './procs.js';

const PG_USER = 'postgres';
const PG_PASSWORD = 'chaos';
const DATABASE = 'graft';
/** Ports the shared services use: never ours. */
const SHARED_PORTS = new Set([5432, 6379]);

/** Inherited settings the bench sets itself (everything else GRAFT_* passes through). */
const OWN_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'PORT',
  'HOST',
  'LOG_LEVEL',
  'NODE_OPTIONS',
  'TMPDIR',
  'GRAFT_DATA_DIR',
  'GRAFT_TFJS_BACKEND',
  'GRAFT_QUEUE',
  'GRAFT_RATE_LIMITS',
];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        if (SHARED_PORTS.has(port) || port === 0) freePort().then(resolve, reject);
        else resolve(port);
      });
    });
  });
}

function tail(file: string, chars = 1500): string {
  try {
    return readFileSync(file, 'utf8').slice(-chars).trim();
  } catch {
    return '';
  }
}

export interface ClusterOptions {
  repoRoot: string;
  /** Keep the run folder (logs, databases, artifacts) after tearing down. */
  keep: boolean;
}

export class Cluster {
  readonly id = `${process.pid}-${Date.now().toString(36)}`;
  /** In the environment of every API and worker process (and so of their children). */
  readonly marker = `GRAFT_CHAOS_RUN=${this.id}`;
  readonly buildDir: string;
  readonly distDir: string;
  readonly dataDir: string;
  /** TMPDIR of the API and workers: what they leave in the OS temp folder shows up here. */
  readonly procTmp: string;
  readonly logDir: string;
  readonly redisDir: string;
  apiPort = 0;
  redisPort = 0;
  pgPort = 0;
  redis?: Managed;
  api?: Managed;
  workers: Managed[] = [];
  /** Extra API processes (the full-disk one). */
  others: Managed[] = [];
  /** Every API / worker process ever started, for the final sweep. */
  private readonly started: Managed[] = [];
  private postgres?: RunningPostgres;
  private pgRoot?: string;
  private readonly mounts: string[] = [];
  private logCount = 0;
  private tornDown = false;

  private constructor(
    readonly runDir: string,
    private readonly options: ClusterOptions,
  ) {
    this.buildDir = join(runDir, 'build');
    this.distDir = join(this.buildDir, 'dist');
    this.dataDir = join(runDir, 'data');
    this.procTmp = join(runDir, 'proc-tmp');
    this.logDir = join(runDir, 'logs');
    this.redisDir = join(runDir, 'redis');
    for (const dir of [this.buildDir, this.dataDir, this.procTmp, this.logDir, this.redisDir])
      mkdirSync(dir, { recursive: true });
  }

  static async create(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(await mkdtemp(join(tmpdir(), 'graft-chaos-')), options);
    cluster.apiPort = await freePort();
    cluster.redisPort = await freePort();
    cluster.pgPort = await freePort();
    return cluster;
  }

  get databaseUrl(): string {
    return `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${this.pgPort}/${DATABASE}`;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  apiBase(port = this.apiPort): string {
    return `http://127.0.0.1:${port}`;
  }

  private nextLog(name: string): string {
    this.logCount += 1;
    return join(this.logDir, `${String(this.logCount).padStart(2, '0')}-${name}.log`);
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of OWN_VARIABLES) delete env[name];
    return {
      ...env,
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      HOST: '127.0.0.1',
      PORT: String(this.apiPort),
      GRAFT_DATA_DIR: this.dataDir,
      LOG_LEVEL: 'warn',
      GRAFT_RATE_LIMITS: 'off',
      // One tenant runs every scenario: a job left stuck must not block the next ones.
      GRAFT_QUOTA_CONCURRENT_JOBS: process.env.GRAFT_QUOTA_CONCURRENT_JOBS ?? '10',
      TMPDIR: this.procTmp,
      GRAFT_CHAOS_RUN: this.id,
      ...extra,
    };
  }

  /** Compiles src/ as it is now into the run folder (tsc emits even with type errors). */
  build(): void {
    const tsc = join(this.options.repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(
      process.execPath,
      [tsc, '-p', 'tsconfig.build.json', '--outDir', this.distDir],
      { cwd: this.options.repoRoot, encoding: 'utf8' },
    );
    for (const name of ['api/server.js', 'worker/main.js', 'worker/training.processor.js'])
      if (!existsSync(join(this.distDir, name)))
        throw new Error(`build failed, no ${name}:\n${result.stdout}${result.stderr}`);
    if (result.status !== 0) {
      const errors = (result.stdout.match(/error TS/g) ?? []).length;
      log(`warning: tsc reported ${errors} type error(s) in src/ (emitted anyway):`);
      process.stderr.write(`${result.stdout.slice(0, 3000)}\n`);
    }
    // The build resolves node_modules and the bundled models/ from its parent folder.
    symlinkSync(join(this.options.repoRoot, 'node_modules'), join(this.buildDir, 'node_modules'));
    symlinkSync(join(this.options.repoRoot, 'models'), join(this.buildDir, 'models'));
    writeFileSync(
      join(this.buildDir, 'package.json'),
      readFileSync(join(this.options.repoRoot, 'package.json')),
    );
  }

  // --- Redis ---------------------------------------------------------------------------

  async startRedis(): Promise<void> {
    if (this.redis?.alive()) return;
    const logFile = this.nextLog('redis');
    const managed = launch(
      'redis',
      'redis-server',
      [
        '--port',
        String(this.redisPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.redisDir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--daemonize',
        'no',
      ],
      { env: process.env, logFile },
    );
    this.redis = managed;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!managed.alive()) throw new Error(`redis-server exited: ${tail(logFile)}`);
      if (await this.redisAnswers()) return;
      await sleep(100);
    }
    throw new Error(`redis-server did not answer on ${this.redisUrl}`);
  }

  /** SIGTERM (it writes its append-only file and exits), waiting for the exit. */
  async stopRedis(): Promise<number> {
    if (!this.redis) return 0;
    const { seconds } = await stopProcess(this.redis, 'SIGTERM', 15_000);
    return seconds;
  }

  private connectRedis(): Redis {
    return probeRedisClient(this.redisUrl);
  }

  async redisAnswers(): Promise<boolean> {
    const client = this.connectRedis();
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }

  /** Worker ids (`host:pid`) with a live heartbeat, or undefined when Redis does not answer. */
  async heartbeats(): Promise<string[] | undefined> {
    const client = this.connectRedis();
    try {
      await client.connect();
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', 'graft:workers:*', 'COUNT', 200);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      return keys.map((key) => key.slice('graft:workers:'.length));
    } catch {
      return undefined;
    } finally {
      client.disconnect();
    }
  }

  // --- PostgreSQL ----------------------------------------------------------------------

  private pgOptions(): EmbeddedPostgresOptions {
    return {
      root: join(this.runDir, 'postgres'),
      // Never the shared /var/lib/graft/postgres, even where the postgres user cannot reach us.
      systemRoot: join(this.runDir, 'postgres-system'),
      port: this.pgPort,
      user: PG_USER,
      password: PG_PASSWORD,
    };
  }

  async startPostgres(): Promise<number> {
    const start = Date.now();
    if (this.postgres) return 0;
    this.postgres = await startEmbeddedPostgres(this.pgOptions());
    this.pgRoot = this.postgres.root;
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.pgPort,
      user: PG_USER,
      password: PG_PASSWORD,
      database: 'postgres',
    });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
    return (Date.now() - start) / 1000;
  }

  /** Fast shutdown (SIGINT): sessions are cut, no checkpoint wait for clients. */
  async stopPostgres(): Promise<number> {
    const start = Date.now();
    const running = this.postgres;
    this.postgres = undefined;
    await running?.stop();
    return (Date.now() - start) / 1000;
  }

  get postgresUp(): boolean {
    return this.postgres !== undefined;
  }

  /** One query on a fresh connection (the server may have restarted since the last one). */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: 3000,
      statement_timeout: 10_000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  // --- Graft processes ---------------------------------------------------------------

  /** Creates the tenant's API key with the CLI of this build (which applies migrations). */
  createKey(tenant: string): string {
    const result = spawnSync(
      process.execPath,
      [join(this.distDir, 'cli', 'keys-create.cli.js'), '--tenant', tenant, '--name', 'chaos'],
      { cwd: this.options.repoRoot, env: this.env(), encoding: 'utf8', timeout: 180_000 },
    );
    const key = result.stdout.trim().split('\n').pop()?.trim();
    if (result.status !== 0 || !key?.startsWith('graft_'))
      throw new Error(`keys-create failed (${result.status}): ${result.stderr}${result.stdout}`);
    return key;
  }

  private async waitHealthy(managed: Managed, port: number, logFile: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (!managed.alive()) throw new Error(`${managed.name} exited at start: ${tail(logFile)}`);
      try {
        const response = await fetch(`${this.apiBase(port)}/healthz`, {
          signal: AbortSignal.timeout(1000),
        });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${managed.name} did not answer /healthz within 60 s: ${tail(logFile)}`);
  }

  /** An API process; the main one unless `dataDir`/`port` say otherwise. */
  async startApi(
    options: { port?: number; dataDir?: string; name?: string } = {},
  ): Promise<Managed> {
    const port = options.port ?? this.apiPort;
    const name = options.name ?? 'api';
    const logFile = this.nextLog(name);
    const managed = launch(name, process.execPath, [join(this.distDir, 'api', 'server.js')], {
      cwd: this.buildDir,
      env: this.env({
        PORT: String(port),
        ...(options.dataDir ? { GRAFT_DATA_DIR: options.dataDir } : {}),
      }),
      logFile,
    });
    this.started.push(managed);
    if (port === this.apiPort) this.api = managed;
    else this.others.push(managed);
    await this.waitHealthy(managed, port, logFile);
    return managed;
  }

  async startWorker(): Promise<Managed> {
    const logFile = this.nextLog('worker');
    const managed = launch('worker', process.execPath, [join(this.distDir, 'worker', 'main.js')], {
      cwd: this.buildDir,
      env: this.env(),
      logFile,
    });
    this.started.push(managed);
    this.workers.push(managed);
    const id = `${hostname()}:${managed.pid}`;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (!managed.alive()) throw new Error(`worker exited at start: ${tail(logFile)}`);
      if ((await this.heartbeats())?.includes(id)) return managed;
      await sleep(300);
    }
    throw new Error(`worker ${managed.pid} sent no heartbeat within 120 s: ${tail(logFile)}`);
  }

  liveWorkers(): Managed[] {
    this.workers = this.workers.filter((worker) => worker.alive());
    return this.workers;
  }

  /** Kills every worker (and its children) and starts `count` fresh ones. */
  async replaceWorkers(count = 2): Promise<void> {
    for (const worker of this.liveWorkers()) {
      const children = descendants(worker.pid);
      await stopProcess(worker, 'SIGKILL', 5000);
      for (const child of children) signalPid(child.pid, 'SIGKILL');
    }
    this.workers = [];
    for (let i = 0; i < count; i++) await this.startWorker();
  }

  /** Everything a scenario may have taken down comes back: Redis, PostgreSQL, API, two workers. */
  async ensureHealthy(workers = 2): Promise<void> {
    if (!this.redis?.alive()) await this.startRedis();
    if (!this.postgres) await this.startPostgres();
    if (!this.api?.alive()) await this.startApi();
    while (this.liveWorkers().length < workers) await this.startWorker();
  }

  /** Processes carrying this run's marker that no live API or worker of ours owns. */
  orphans(): { pid: number; ppid: number; state: string; args: string }[] {
    const live = new Set(this.started.filter((m) => m.alive()).map((m) => m.pid));
    return processTable()
      .filter((info) => !live.has(info.pid) && !live.has(info.ppid) && info.state !== 'Z')
      .filter((info) => info.pid !== process.pid && hasMarker(info.pid, this.marker))
      .map(({ pid, ppid, state, args }) => ({ pid, ppid, state, args }));
  }

  // --- Full disk ----------------------------------------------------------------------

  /** A tmpfs of `size` mounted at a new folder, or the reason it could not be. */
  mountTmpfs(size: string): { dir: string } | { error: string } {
    const dir = join(this.runDir, 'full-disk');
    mkdirSync(dir, { recursive: true });
    const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], {
      encoding: 'utf8',
    });
    if (result.status !== 0)
      return { error: (result.stderr || result.error?.message || 'mount failed').trim() };
    this.mounts.push(dir);
    return { dir };
  }

  unmount(dir: string): void {
    const result = spawnSync('umount', [dir], { encoding: 'utf8' });
    if (result.status !== 0) spawnSync('umount', ['-l', dir]);
    const index = this.mounts.indexOf(dir);
    if (index >= 0) this.mounts.splice(index, 1);
  }

  // --- Teardown -------------------------------------------------------------------------

  async teardown(keep = this.options.keep): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all(this.started.map((m) => stopProcess(m, 'SIGTERM', 5000)));
    for (const orphan of this.orphans()) signalPid(orphan.pid, 'SIGKILL');
    await this.stopRedis().catch(() => undefined);
    await this.stopPostgres().catch(() => undefined);
    for (const dir of [...this.mounts]) this.unmount(dir);
    if (keep) log(`kept ${this.runDir}`);
    else rmSync(this.runDir, { recursive: true, force: true });
  }

  /** Synchronous last resort (process 'exit'): nothing of ours may outlive the bench. */
  emergencyStop(): void {
    if (this.tornDown) return;
    for (const m of this.started) if (m.alive()) signalPid(m.pid, 'SIGKILL');
    for (const orphan of this.orphans()) signalPid(orphan.pid, 'SIGKILL');
    if (this.redis?.alive()) signalPid(this.redis.pid, 'SIGKILL');
    if (this.pgRoot) {
      try {
        const pid = Number(
          readFileSync(join(this.pgRoot, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
        );
        if (pid > 0) signalPid(pid, 'SIGQUIT'); // immediate shutdown
      } catch {
        // not running
      }
    }
    for (const dir of this.mounts) spawnSync('umount', ['-l', dir]);
  }
}
