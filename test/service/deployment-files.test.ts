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

  it('wires postgres, redis, api and a GPU worker with volumes and health checks', () => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
      services: Record<
        string,
        {
          healthcheck?: object;
          volumes?: string[];
          deploy?: { resources: { reservations: { devices: { capabilities: string[] }[] } } };
          build?: { target: string };
          stop_grace_period?: string;
        }
      >;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
    for (const name of ['postgres', 'redis', 'api'])
      expect(compose.services[name]!.healthcheck).toBeDefined();
    expect(
      compose.services.worker!.deploy!.resources.reservations.devices[0]!.capabilities,
    ).toContain('gpu');
    expect(compose.services.worker!.build!.target).toBe('worker-gpu');
    expect(compose.services.api!.volumes).toEqual(compose.services.worker!.volumes);
    // Longer than the drain bound (GRAFT_DRAIN_TIMEOUT_MS, 10 s), so Docker does not cut it.
    for (const name of ['api', 'worker'])
      expect(compose.services[name]!.stop_grace_period).toBe('15s');
  });

  it.skipIf(!hasCompose)('passes `docker-compose config` (offline validation)', () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
