import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/db/generated/client.js';
import { jobError } from '../../src/worker/job-error.js';

describe('jobError', () => {
  it("passes training's own messages as they are", () => {
    const message = "classWeights names 'cat', not a class of this dataset (classes: ant, bee)";
    expect(jobError(new Error(message))).toEqual({ message });
    expect(jobError('stopped').message).toBe('stopped');
  });

  it('cuts file paths to their last part, and leaves URLs alone', () => {
    expect(jobError(new Error('cannot read /root/graft/data/datasets/1/a.jpg: bad')).message).toBe(
      'cannot read …/a.jpg: bad',
    );
    expect(jobError(new Error("'C:\\graft\\models\\m.json' and file:///etc/passwd")).message).toBe(
      "'…/m.json' and …/passwd",
    );
    const url = 'https://models.example.com/bases/v2/model.json answered with an error';
    expect(jobError(new Error(url)).message).toBe(url);
    expect(jobError(new Error('ratio 3/4 and a/b')).message).toBe('ratio 3/4 and a/b');
  });

  it('replaces a system error with its code and a reference that the log carries', () => {
    const error = Object.assign(new Error('EIO: i/o error, read /data/x'), { code: 'EIO' });
    const stored = jobError(error, 'the worker failed: ');
    expect(stored.message).toMatch(/^the worker failed: the server hit a system error \(EIO\);/);
    expect(stored.message).not.toContain('/data/x');
    expect(stored.internal?.detail).toContain('/data/x');
    expect(stored.message).toContain(`reference ${stored.internal?.reference}`);
  });

  it('caps the length', () => {
    expect(jobError(new Error('x'.repeat(5000))).message).toHaveLength(1000);
  });

  it("never shows the database's own words (addresses, queries)", () => {
    const prisma = new Prisma.PrismaClientKnownRequestError(
      'Invalid `prisma.trainingJob.updateMany()` invocation: server at db.internal:5432',
      { code: 'P2002', clientVersion: '6.19.0' },
    );
    for (const error of [prisma, new Error("Can't reach database server at db.internal:5432")]) {
      const stored = jobError(error);
      expect(stored.message).toMatch(/system error \(database or storage\)/);
      expect(stored.message).not.toContain('db.internal');
    }
  });

  it("never shows the object store's words (buckets, credentials)", () => {
    const denied = Object.assign(new Error('Access Denied to bucket graft-prod'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    expect(jobError(denied).message).toMatch(/system error \(database or storage\)/);
    expect(jobError(denied).message).not.toContain('graft-prod');
  });
});
