import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../src/training/phase-trainer.js';

/*
 * Image sets far from ImageNet, made from seeds so anyone can rebuild them: for checking
 * Graft's defaults on data nobody tuned for (never for choosing them).
 * - glyphs: small grey drawings of the digits 0–9 in several fonts, sizes, slants and
 *   positions, with pen noise;
 * - aligned-glyphs: centred 28×28 digits in one font (MNIST-like), where raw pixels are strong
 *   and mirroring is wrong;
 * - patterns: colour textures of ten kinds (stripes, checks, dots, rings, waves, …) at random
 *   scales, phases, angles and colours — where raw pixels are weak.
 */

export interface SyntheticSet {
  name: string;
  classes: string[];
  /** Writes `count` images of class `label` (index) into `dir`, starting at image number `from`. */
  draw: (label: number, random: () => number) => string;
  size: number;
  grey: boolean;
}

const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono', 'DejaVu Sans Condensed'];

const glyphs: SyntheticSet = {
  name: 'glyphs',
  classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  size: 48,
  grey: true,
  draw: (label, random) => {
    const font = FONTS[Math.floor(random() * FONTS.length)]!;
    const size = 26 + random() * 16;
    const x = 24 + (random() - 0.5) * 12;
    const y = 24 + size * 0.35 + (random() - 0.5) * 10;
    const angle = (random() - 0.5) * 30;
    const weight = random() < 0.4 ? 'bold' : 'normal';
    const ink = Math.floor(random() * 80);
    const paper = 180 + Math.floor(random() * 75);
    const specks = Array.from({ length: 12 }, () => {
      const g = Math.floor(random() * 255);
      return `<circle cx="${random() * 48}" cy="${random() * 48}" r="${0.5 + random()}" fill="rgb(${g},${g},${g})"/>`;
    }).join('');
    return `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48">
      <rect width="48" height="48" fill="rgb(${paper},${paper},${paper})"/>${specks}
      <text x="${x}" y="${y}" font-family="${font}" font-size="${size}" font-weight="${weight}"
        text-anchor="middle" fill="rgb(${ink},${ink},${ink})"
        transform="rotate(${angle} 24 24)">${label}</text></svg>`;
  },
};

/** Centred digits in one font with little jitter, MNIST-like: raw pixels are strong here. */
const alignedGlyphs: SyntheticSet = {
  name: 'aligned-glyphs',
  classes: glyphs.classes,
  size: 28,
  grey: true,
  draw: (label, random) => {
    const size = 20 + random() * 3;
    const x = 14 + (random() - 0.5) * 2;
    const y = 14 + size * 0.36 + (random() - 0.5) * 2;
    const ink = Math.floor(random() * 40);
    const stroke = 0.5 + random() * 1.2;
    return `<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">
      <rect width="28" height="28" fill="white"/>
      <text x="${x}" y="${y}" font-family="DejaVu Sans" font-size="${size}" text-anchor="middle"
        fill="rgb(${ink},${ink},${ink})" stroke="rgb(${ink},${ink},${ink})" stroke-width="${stroke}"
        transform="rotate(${(random() - 0.5) * 8} 14 14)">${label}</text></svg>`;
  },
};

const colour = (random: () => number) =>
  `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;

const PATTERNS: ((s: number, a: string, b: string, random: () => number) => string)[] = [
  // stripes
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><rect width="${s / 2}" height="${s}" fill="${b}"/></pattern>`,
  // checks
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><rect width="${s / 2}" height="${s / 2}" fill="${b}"/><rect x="${s / 2}" y="${s / 2}" width="${s / 2}" height="${s / 2}" fill="${b}"/></pattern>`,
  // dots
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><circle cx="${s / 2}" cy="${s / 2}" r="${s / 5}" fill="${b}"/></pattern>`,
  // rings
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><circle cx="${s / 2}" cy="${s / 2}" r="${s / 3}" fill="none" stroke="${b}" stroke-width="${s / 10}"/></pattern>`,
  // waves
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><path d="M0 ${s / 2} Q ${s / 4} 0 ${s / 2} ${s / 2} T ${s} ${s / 2}" fill="none" stroke="${b}" stroke-width="${s / 8}"/></pattern>`,
  // crosses
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><path d="M${s * 0.2} ${s * 0.2} L${s * 0.8} ${s * 0.8} M${s * 0.8} ${s * 0.2} L${s * 0.2} ${s * 0.8}" stroke="${b}" stroke-width="${s / 10}"/></pattern>`,
  // triangles
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><polygon points="${s / 2},${s * 0.15} ${s * 0.85},${s * 0.85} ${s * 0.15},${s * 0.85}" fill="${b}"/></pattern>`,
  // grid lines
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${a}"/><path d="M0 0 H${s} M0 0 V${s}" stroke="${b}" stroke-width="${s / 12}"/></pattern>`,
  // bricks
  (s, a, b) =>
    `<pattern id="p" width="${s}" height="${s}" patternUnits="userSpaceOnUse"><rect width="${s}" height="${s}" fill="${b}"/><rect x="1" y="1" width="${s - 2}" height="${s / 2 - 2}" fill="${a}"/><rect x="${-s / 2 + 1}" y="${s / 2 + 1}" width="${s - 2}" height="${s / 2 - 2}" fill="${a}"/><rect x="${s / 2 + 1}" y="${s / 2 + 1}" width="${s - 2}" height="${s / 2 - 2}" fill="${a}"/></pattern>`,
  // scattered blobs
  (s, a, b, random) =>
    `<pattern id="p" width="${s * 2}" height="${s * 2}" patternUnits="userSpaceOnUse"><rect width="${s * 2}" height="${s * 2}" fill="${a}"/>${Array.from(
      { length: 5 },
      () =>
        `<ellipse cx="${random() * s * 2}" cy="${random() * s * 2}" rx="${s / 4 + (random() * s) / 3}" ry="${s / 6 + (random() * s) / 4}" fill="${b}"/>`,
    ).join('')}</pattern>`,
];

const patterns: SyntheticSet = {
  name: 'patterns',
  classes: [
    'stripes',
    'checks',
    'dots',
    'rings',
    'waves',
    'crosses',
    'triangles',
    'grid',
    'bricks',
    'blobs',
  ],
  size: 96,
  grey: false,
  draw: (label, random) => {
    const scale = 10 + random() * 22;
    const angle = random() * 180;
    const defs = PATTERNS[label]!(scale, colour(random), colour(random), random).replace(
      '<pattern id="p"',
      `<pattern id="p" patternTransform="rotate(${angle}) translate(${random() * scale} ${random() * scale})"`,
    );
    return `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><defs>${defs}</defs><rect width="96" height="96" fill="url(#p)"/></svg>`;
  },
};

export const SYNTHETIC_SETS = [glyphs, alignedGlyphs, patterns];

/** Writes `perClass` images of every class under `dir/<class>/`, reproducibly from `seed`. */
export async function writeSyntheticSet(
  set: SyntheticSet,
  dir: string,
  perClass: number,
  seed: number,
): Promise<void> {
  const random = seededRandom(seed);
  for (const [label, name] of set.classes.entries()) {
    await mkdir(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      let image = sharp(Buffer.from(set.draw(label, random)));
      if (set.grey) image = image.greyscale();
      await image.jpeg({ quality: 85 }).toFile(join(dir, name, `${seed}-${i}.jpg`));
    }
  }
}
