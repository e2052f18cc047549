import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import yauzl from 'yauzl';
import { checkName, hasForbiddenCharacters, visible } from '../contracts/names.js';
import { SPLIT_FOLDERS } from '../training/dataset-split.js';
import { isFileSystemError } from './file-system-errors.js';
import { IMAGE_EXTENSIONS, MAX_INPUT_PIXELS } from './image-decoder.js';

export interface ArchiveLimits {
  maxEntries: number;
  /** Largest single file, uncompressed. */
  maxEntryBytes: number;
  /** Sum of all files, uncompressed. */
  maxTotalBytes: number;
  /** Above this uncompressed/compressed ratio a large entry is treated as a zip bomb. */
  maxCompressionRatio: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 100_000,
  maxEntryBytes: 64 * 1024 ** 2,
  maxTotalBytes: 8 * 1024 ** 3,
  maxCompressionRatio: 100,
};

export interface ArchiveImage {
  path: string;
  label: string;
  split?: 'train' | 'val';
  data: Buffer;
  extension: string;
  width: number;
  height: number;
  /** sha256 of the file. */
  contentHash: string;
  /** One or two channels: greyscale. */
  grey: boolean;
}

export interface ArchiveSummary {
  rejected: { path: string; reason: string }[];
  split: boolean;
}

/** Why a zip is refused as a whole. Stable codes; the caller decides what a client sees. */
export type DatasetArchiveErrorCode =
  | 'invalid_archive'
  | 'invalid_file_name'
  | 'invalid_label'
  | 'unsafe_path'
  | 'too_many_files'
  | 'file_too_large'
  | 'zip_bomb'
  | 'archive_too_large';

export class DatasetArchiveError extends Error {
  override name = 'DatasetArchiveError';
  constructor(
    readonly code: DatasetArchiveErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
      (error, zip) => {
        // The server's disk failing to read the zip is not the zip's fault.
        if (isFileSystemError(error)) reject(error);
        else if (error || !zip)
          reject(
            new DatasetArchiveError(
              'invalid_archive',
              `not a readable zip file: ${error?.message ?? 'unknown error'}`,
            ),
          );
        else resolve(zip);
      },
    );
  });
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream?: Readable) => {
      if (error || !stream) return reject(error ?? new Error('no stream'));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/** Ignored silently: folders, macOS resource forks and hidden files. */
function isJunk(name: string): boolean {
  return (
    name.endsWith('/') ||
    name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX')
  );
}

/** Decodes the whole image (small), so truncated and corrupt files are caught here. */
async function inspectImage(
  data: Buffer,
): Promise<{ width: number; height: number; grey: boolean; contentHash: string }> {
  const image = sharp(data, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS });
  const { width, height, channels } = await image.metadata();
  await image.resize(16, 16, { fit: 'fill' }).raw().toBuffer();
  if (!width || !height) throw new Error('image has no size');
  return {
    width,
    height,
    grey: channels !== undefined && channels <= 2,
    contentHash: createHash('sha256').update(data).digest('hex'),
  };
}

/**
 * Reads a dataset zip: one folder per class, optionally inside one top folder, optionally
 * split into train/ and val/. Checks declared sizes before inflating anything (zip bombs),
 * refuses unsafe paths and unsafe names, decodes every image, and hands each good one to
 * `onImage` as it goes. Files that are not decodable images are listed in `rejected`.
 *
 * Names are NFC-normalised first, so class folders that are NFC/NFD twins ("café" written
 * by macOS's Archive Utility as e + U+0301, by others as U+00E9) are one class: a person sees
 * one name, zip tools disagree on the bytes, and refusing would punish the choice of tool.
 */
export async function readDatasetArchive(
  zipPath: string,
  onImage: (image: ArchiveImage) => Promise<void>,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ArchiveSummary> {
  const zip = await openZip(zipPath);
  try {
    const entries = await listEntries(zip, limits);
    const names = entries.map((e) => e.fileName.normalize('NFC'));
    const top = commonTopFolder(names);
    const relative = (name: string) => (top ? name.slice(top.length + 1) : name);
    const split =
      names.every((name) => SPLIT_FOLDERS.has(relative(name).split('/')[0]!)) && names.length > 0;
    const located = entries.map((entry, i) => {
      const path = names[i]!;
      const parts = relative(path).split('/');
      const splitName = split ? SPLIT_FOLDERS.get(parts.shift()!) : undefined;
      return { entry, path, parts, splitName };
    });
    // Every label is checked before anything is inflated.
    for (const { parts } of located) if (parts.length >= 2) checkLabel(parts[0]!);
    const rejected: ArchiveSummary['rejected'] = [];
    for (const { entry, path, parts, splitName } of located) {
      const extension = extname(path).toLowerCase();
      if (parts.length < 2) {
        rejected.push({ path, reason: 'not inside a class folder' });
        continue;
      }
      if (!IMAGE_EXTENSIONS.has(extension)) {
        rejected.push({ path, reason: `not an image file (${extension || 'no extension'})` });
        continue;
      }
      let data: Buffer;
      try {
        // Encrypted entries, unsupported compression (bzip2, LZMA…) or corrupt data.
        data = await readEntry(zip, entry);
      } catch (error) {
        if (isFileSystemError(error)) throw error;
        rejected.push({ path, reason: `could not be extracted: ${(error as Error).message}` });
        continue;
      }
      let size: Awaited<ReturnType<typeof inspectImage>>;
      try {
        size = await inspectImage(data);
      } catch (error) {
        rejected.push({ path, reason: `not a decodable image: ${(error as Error).message}` });
        continue;
      }
      // Outside the try: what onImage throws (a limit, a failed write) ends the upload.
      await onImage({
        path,
        label: parts[0]!,
        ...(splitName ? { split: splitName } : {}),
        data,
        extension,
        ...size,
      });
    }
    return { rejected, split };
  } finally {
    zip.close();
  }
}

/** A class folder's name becomes a label shown in every prediction: held to the name rules. */
function checkLabel(label: string): void {
  const check = checkName(label);
  if (!check.ok) {
    throw new DatasetArchiveError(
      'invalid_label',
      `the class folder name '${visible(label, 40)}' ${check.reason}`,
    );
  }
}

/** Reads the central directory only, enforcing every limit before any data is inflated. */
function listEntries(zip: yauzl.ZipFile, limits: ArchiveLimits): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    let total = 0;
    const fail = (error: DatasetArchiveError) => {
      zip.close();
      reject(error);
    };
    zip.on('entry', (entry: yauzl.Entry) => {
      if (hasForbiddenCharacters(entry.fileName)) {
        return fail(
          new DatasetArchiveError(
            'invalid_file_name',
            `the zip holds a file name with control or bidirectional-text characters: '${visible(entry.fileName)}'`,
          ),
        );
      }
      if (!isJunk(entry.fileName)) {
        if (entries.length >= limits.maxEntries)
          return fail(
            new DatasetArchiveError(
              'too_many_files',
              `the zip holds more than ${limits.maxEntries} files`,
            ),
          );
        if (entry.uncompressedSize > limits.maxEntryBytes) {
          return fail(
            new DatasetArchiveError(
              'file_too_large',
              `${entry.fileName} is ${entry.uncompressedSize} bytes uncompressed; the limit is ${limits.maxEntryBytes}`,
            ),
          );
        }
        const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
        if (ratio > limits.maxCompressionRatio && entry.uncompressedSize > 1024 ** 2) {
          return fail(
            new DatasetArchiveError(
              'zip_bomb',
              `${entry.fileName} expands ${Math.round(ratio)}x: refusing a likely zip bomb`,
            ),
          );
        }
        total += entry.uncompressedSize;
        if (total > limits.maxTotalBytes)
          return fail(
            new DatasetArchiveError(
              'archive_too_large',
              `the zip expands to more than ${limits.maxTotalBytes} bytes`,
            ),
          );
        entries.push(entry);
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (error: Error) =>
      reject(
        isFileSystemError(error)
          ? error
          : new DatasetArchiveError(
              /relative path|absolute path/i.test(error.message)
                ? 'unsafe_path'
                : 'invalid_archive',
              `rejected zip: ${error.message}`,
            ),
      ),
    );
    zip.readEntry();
  });
}

function commonTopFolder(names: readonly string[]): string | undefined {
  const firsts = new Set(names.map((name) => name.split('/')[0]));
  if (firsts.size !== 1) return undefined;
  const [first] = firsts;
  if (first === undefined || SPLIT_FOLDERS.has(first)) return undefined;
  // Only a wrapper if every file sits at least two folders down (top/class/file).
  return names.every((name) => name.split('/').length >= 3) ? first : undefined;
}
