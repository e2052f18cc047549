import sharp from 'sharp';
import yazl from 'yazl';

/** A small JPEG: a colour with deterministic noise, so classes are learnable. */
export async function photo(
  rgb: [number, number, number],
  seed: number,
  size = 48,
): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const noise = ((p * 7919 + seed * 104729) % 51) - 25;
    pixels.set(
      rgb.map((v) => Math.max(0, Math.min(255, v + noise))),
      p * 3,
    );
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .jpeg()
    .toBuffer();
}

export function zip(files: Record<string, Buffer | string>, compress = true): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const [name, data] of Object.entries(files)) {
    archive.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name, { compress });
  }
  archive.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    archive.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    archive.outputStream.on('error', reject);
  });
}

/** Two colour classes ("red", "blue"), `perClass` photos each, inside a top folder. */
export async function colourDataset(
  perClass: number,
  extra: Record<string, Buffer | string> = {},
): Promise<Buffer> {
  const files: Record<string, Buffer | string> = {};
  for (let i = 0; i < perClass; i++) {
    files[`colours/red/r${i}.jpg`] = await photo([210, 40, 40], i);
    files[`colours/blue/b${i}.jpg`] = await photo([40, 60, 210], i + 100);
  }
  return zip({ ...files, ...extra });
}

/** Multipart body with the zip in `file` (and an optional name), for app.inject. */
export function multipart(
  fileName: string,
  content: Buffer,
  fields: Record<string, string> = {},
  fileField = 'file',
) {
  const boundary = `----graft${Date.now()}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="${fileField}"; filename="${fileName}"\r\ncontent-type: application/zip\r\n\r\n`,
    ),
  );
  parts.push(content, Buffer.from(`\r\n--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}
