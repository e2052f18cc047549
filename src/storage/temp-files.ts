import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Removes what is older than `olderThan` in a temp folder (upload zips of requests that died:
 * a finished one removes its own). A missing folder has nothing to remove.
 */
export async function removeOldFiles(dir: string, olderThan: Date): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    const stats = await lstat(join(dir, name)).catch(() => undefined);
    if (!stats || stats.mtime >= olderThan) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
