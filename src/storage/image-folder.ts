import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { SPLIT_FOLDERS, type LabelledExample, type SplitName } from '../training/dataset-split.js';
import { IMAGE_EXTENSIONS } from './image-decoder.js';

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

async function imagesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) found.push(...(await imagesIn(path)));
    else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found.sort();
}

/**
 * Lists a labelled image folder: one sub-folder per class, or train/ and val/ (or
 * validation/) each holding one sub-folder per class. Keys are paths relative to `root`.
 */
export async function listImageFolder(root: string): Promise<LabelledExample[]> {
  if (!(await stat(root)).isDirectory()) throw new Error(`${root} is not a folder`);
  const top = await subfolders(root);
  const folderOf = (side: SplitName) => top.find((name) => SPLIT_FOLDERS.get(name) === side);
  const trainName = folderOf('train');
  const valName = folderOf('val');
  const examples: LabelledExample[] = [];
  const addClasses = async (dir: string, split?: SplitName) => {
    for (const label of await subfolders(dir)) {
      for (const path of await imagesIn(join(dir, label))) {
        examples.push({ key: relative(root, path), label, ...(split ? { split } : {}) });
      }
    }
  };
  if (trainName && valName) {
    await addClasses(join(root, trainName), 'train');
    await addClasses(join(root, valName), 'val');
  } else {
    await addClasses(root);
  }
  return examples;
}
