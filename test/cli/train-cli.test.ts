import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSX = resolve('node_modules/.bin/tsx');
const CLI = resolve('src/cli/train.cli.ts');

let dataDir: string;

/** Six small photos per class (plain colours with noise) and one corrupt file. */
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'graft-cli-data-'));
  const colours = { red: [220, 40, 30], blue: [30, 60, 220] } as const;
  for (const [label, [r, g, b]] of Object.entries(colours)) {
    mkdirSync(join(dataDir, label));
    for (let i = 0; i < 6; i++) {
      const noise = Buffer.alloc(64 * 48 * 3);
      for (let p = 0; p < 64 * 48; p++) {
        const n = ((p * 7919 + i * 104729) % 61) - 30;
        noise.set(
          [r + n, g + n, b + n].map((v) => Math.max(0, Math.min(255, v))),
          p * 3,
        );
      }
      const jpeg = await sharp(noise, { raw: { width: 64, height: 48, channels: 3 } })
        .jpeg()
        .toBuffer();
      writeFileSync(join(dataDir, label, `${i}.jpg`), jpeg);
    }
  }
  writeFileSync(join(dataDir, 'red', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
});

describe('npm run train', () => {
  it('trains the offline default base on a folder and prints a JSON report', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'graft-cli-out-')), 'model');
    const { stdout } = await run(
      TSX,
      [
        CLI,
        '--data',
        dataDir,
        '--epochs-head',
        '3',
        '--epochs-finetune',
        '1',
        '--out',
        out,
        '--json',
      ],
      { env: { ...process.env, GRAFT_TFJS_BACKEND: 'wasm' }, maxBuffer: 1 << 24 },
    );
    const report = JSON.parse(stdout) as {
      backend: string;
      base: string;
      labels: string[];
      skipped: { key: string; reason: string }[];
      evaluation: { accuracy: number; perClass: unknown[] };
      featureExtraction: { accuracy: number };
      unfreezeFrom: string | null;
      kept: string;
      search: { tried: unknown[] };
      calibration: { temperature: number };
      valAccuracy: number;
      featureCache: { images: number };
      phases: {
        featureExtraction: { valAccuracy: number };
        fineTuning: { valAccuracy: number } | null;
      };
      perClass: unknown[];
      wallSeconds: number;
    };
    expect(report.backend).toBe('wasm');
    expect(report.base).toBe('mobilenet_v2_0.35');
    expect(report.labels).toEqual(['blue', 'red']);
    expect(report.skipped).toEqual([
      { key: 'red/broken.jpg', reason: expect.any(String) as string },
    ]);
    // Solid blue vs red: every candidate separates them; the simplest that does ships.
    expect(report.evaluation.accuracy).toBe(1);
    expect(report.featureExtraction.accuracy).toBe(1);
    expect(report.unfreezeFrom).toBe('Conv_1');
    expect(report.featureCache.images).toBeGreaterThanOrEqual(12);
    // The keys earlier versions printed are still there, and agree with the summary.
    expect(report.valAccuracy).toBe(report.evaluation.accuracy);
    expect(report.phases.featureExtraction.valAccuracy).toBe(report.featureExtraction.accuracy);
    expect(report.perClass).toEqual(report.evaluation.perClass);
    expect(['featureExtraction', 'fineTuning', 'baseline']).toContain(report.kept);
    expect(report.search.tried.length).toBeGreaterThanOrEqual(8);
    expect(report.calibration.temperature).toBeGreaterThan(0);
    expect(report.wallSeconds).toBeGreaterThan(0);
    for (const file of ['model.json', 'weights.bin', 'metadata.json']) {
      expect(existsSync(join(out, file))).toBe(true);
    }
    const metadata = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')) as {
      format: string;
      labels: string[];
      preprocessing: object;
      evaluation: unknown;
      search: unknown;
      calibration: unknown;
    };
    expect(metadata.format).toBe('graft-model/3');
    expect(metadata.labels).toEqual(['blue', 'red']);
    // One summary: metadata.json and the CLI say the same thing under the same keys.
    expect(metadata.evaluation).toEqual(report.evaluation);
    expect(metadata.search).toEqual(report.search);
    expect(metadata.calibration).toEqual(report.calibration);
    expect(metadata.preprocessing).toEqual({
      size: 224,
      resize: 'cover',
      valueRange: [-1, 1],
      channelOrder: 'RGB',
    });
  });

  it('refuses a fine-tuning rate that is not lower than the head rate, saying why', async () => {
    const spec = join(mkdtempSync(join(tmpdir(), 'graft-cli-spec-')), 'spec.json');
    writeFileSync(
      spec,
      JSON.stringify({
        featureExtraction: { learningRate: 0.001 },
        fineTuning: { learningRate: 0.01 },
      }),
    );
    const attempt = run(TSX, [CLI, '--data', dataDir, '--spec', spec]);
    await expect(attempt).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /fineTuning\/learningRate must be lower than featureExtraction\.learningRate/,
      ) as string,
    });
  });

  it('prints usage without --data', async () => {
    await expect(run(TSX, [CLI])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/Usage: npm run train/) as string,
    });
  });
});
