import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const hasCompose = spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0;

describe('Dockerfile and docker-compose.yml', () => {
  it('builds an API image and a CUDA 11 + cuDNN 8 GPU worker image, both on Node 24 LTS', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^FROM node:24-[^\n]* AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:24-[^\n]* AS api$/m);
    expect(dockerfile).toMatch(/^FROM nvidia\/cuda:11\.2\.\d-cudnn8-runtime[^\n]* AS worker-gpu$/m);
    // The GPU worker gets the build stage's Node, not another install of its own.
    expect(dockerfile).toMatch(/^COPY --from=build \/usr\/local\/bin\/node /m);
    expect(dockerfile).not.toMatch(/nodesource|setup_\d+\.x/);
    expect(dockerfile).toMatch(/HEALTHCHECK/);
    // Node is PID 1 (or exec'd by the shell), so SIGTERM reaches it and it drains.
    for (const cmd of dockerfile.match(/^CMD .*$/gm) ?? [])
      expect(cmd).toMatch(/^CMD \["node"|exec node /);
  });

  it('wires postgres, redis, MinIO, api and a GPU worker with health checks, sharing no volume', () => {
    type Service = {
      image?: string;
      command?: string[];
      entrypoint?: string[];
      environment?: Record<string, string>;
      healthcheck?: object;
      volumes?: string[];
      depends_on?: Record<string, { condition: string }>;
      deploy?: { resources: { reservations: { devices: { capabilities: string[] }[] } } };
      build?: { target: string };
      stop_grace_period?: string;
    };
    // `merge`: the api and the worker take the storage settings from one YAML anchor (`<<`).
    const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
      services: Record<string, Service>;
      volumes: Record<string, unknown>;
    };
    const { services } = compose;
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'minio',
      'minio-bucket',
      'postgres',
      'redis',
      'worker',
    ]);
    for (const name of ['postgres', 'redis', 'minio', 'api'])
      expect(services[name]!.healthcheck).toBeDefined();
    expect(services.worker!.deploy!.resources.reservations.devices[0]!.capabilities).toContain(
      'gpu',
    );
    expect(services.worker!.build!.target).toBe('worker-gpu');
    // Longer than the drain bound (GRAFT_DRAIN_TIMEOUT_MS, 10 s), so Docker does not cut it.
    for (const name of ['api', 'worker']) expect(services[name]!.stop_grace_period).toBe('15s');

    // The artifact store is MinIO's bucket, which a one-shot job creates before the API starts.
    expect(services.minio!.image).toMatch(/^minio\/minio\b/);
    expect(services.minio!.command!.slice(0, 2)).toEqual(['server', '/data']);
    expect(services['minio-bucket']!.image).toMatch(/^minio\/mc\b/);
    expect(services['minio-bucket']!.entrypoint!.join(' ')).toMatch(
      /mc mb --ignore-existing local\/graft\b/,
    );
    expect(services['minio-bucket']!.depends_on!.minio!.condition).toBe('service_healthy');
    expect(services.api!.depends_on!['minio-bucket']!.condition).toBe(
      'service_completed_successfully',
    );
    for (const name of ['api', 'worker']) {
      expect(services[name]!.environment).toMatchObject({
        GRAFT_STORAGE_URL: 's3://graft/artifacts',
        AWS_ENDPOINT_URL_S3: 'http://minio:9000',
        AWS_REGION: expect.any(String) as string,
        AWS_ACCESS_KEY_ID: expect.any(String) as string,
        AWS_SECRET_ACCESS_KEY: expect.any(String) as string,
        GRAFT_S3_FORCE_PATH_STYLE: 'true',
      });
    }
    // Shared nothing: the api and the worker mount no volume (each one's /data is the image's
    // anonymous volume, a cache), so `--scale api=M --scale worker=N` needs none.
    for (const name of ['api', 'worker']) expect(services[name]!.volumes ?? []).toEqual([]);
    expect(Object.keys(compose.volumes).sort()).toEqual(['minio', 'postgres', 'redis']);
  });

  it.skipIf(!hasCompose)('passes `docker-compose config` (offline validation)', () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
