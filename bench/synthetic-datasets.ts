import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../src/training/phase-trainer.js';

/*
 * Image sets far from ImageNet, made from seeds so anyone can rebuild them: for checking
 * Graft's defaults on data nobody tuned for (never for choosing them).
 * - glyphs: small grey drawings of the digits 0–9 in several fonts, sizes, slants and
 *   positions, with pen noise;
 * - sketches: small grey line drawings of ten shapes, roughly centred (QuickDraw-like), where
 *   raw pixels are strong — and left and right arrows, where mirroring is wrong;
 * - positions: a blob in one of ten places, where the class is its position — invisible to
 *   globally pooled CNN features (negative transfer);
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

/** Unit-square outlines of ten simple drawings; two are mirror images of each other. */
const SKETCHES: Record<string, string> = {
  circle: 'M50 10 A40 40 0 1 1 49.9 10 Z',
  square: 'M15 15 H85 V85 H15 Z',
  triangle: 'M50 12 L88 85 H12 Z',
  star: 'M50 8 L61 38 L93 38 L67 57 L77 89 L50 70 L23 89 L33 57 L7 38 L39 38 Z',
  'arrow-left': 'M85 50 H20 M40 28 L18 50 L40 72',
  'arrow-right': 'M15 50 H80 M60 28 L82 50 L60 72',
  cross: 'M20 20 L80 80 M80 20 L20 80',
  house: 'M20 88 V45 L50 15 L80 45 V88 Z M42 88 V65 H58 V88',
  zigzag: 'M10 70 L28 30 L46 70 L64 30 L82 70',
  spiral: 'M50 50 m0 -6 a6 6 0 1 1 -6 6 a12 12 0 1 1 12 12 a18 18 0 1 1 -18 -18 a24 24 0 1 1 24 24',
};

/** Grey line drawings, small and roughly centred (QuickDraw-like): raw pixels do well here. */
const sketches: SyntheticSet = {
  name: 'sketches',
  classes: Object.keys(SKETCHES),
  size: 32,
  grey: true,
  draw: (label, random) => {
    const path = Object.values(SKETCHES)[label]!;
    const scale = (0.22 + random() * 0.08) * (0.8 + random() * 0.4);
    const dx = 16 - 50 * scale + (random() - 0.5) * 5;
    const dy = 16 - 50 * scale + (random() - 0.5) * 5;
    const angle = (random() - 0.5) * 30;
    const width = (1 + random() * 2) / scale;
    const stray = `M${random() * 100} ${random() * 100} L${random() * 100} ${random() * 100}`;
    return `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32">
      <rect width="32" height="32" fill="white"/>
      <g transform="rotate(${angle} 16 16) translate(${dx} ${dy}) scale(${scale})" fill="none"
        stroke="black" stroke-width="${width}" stroke-linecap="round" stroke-linejoin="round">
        <path d="${path}"/><path d="${stray}" stroke-width="${width / 2}" opacity="${random() * 0.6}"/>
      </g></svg>`;
  },
};

/**
 * A small blob in one of ten places (a 2 × 5 grid) on a noisy ground: the class is *where*,
 * which globally pooled CNN features cannot see and raw pixels see at once (negative transfer).
 */
const positions: SyntheticSet = {
  name: 'positions',
  classes: Array.from({ length: 10 }, (_, i) => `cell-${i}`),
  size: 40,
  grey: true,
  draw: (label, random) => {
    const x = 4 + (label % 5) * 8 + 4 + (random() - 0.5) * 3;
    const y = 10 + Math.floor(label / 5) * 20 + (random() - 0.5) * 6;
    const noise = Array.from({ length: 30 }, () => {
      const g = 80 + Math.floor(random() * 120);
      return `<rect x="${random() * 40}" y="${random() * 40}" width="2" height="2" fill="rgb(${g},${g},${g})"/>`;
    }).join('');
    const ink = Math.floor(random() * 60);
    return `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">
      <rect width="40" height="40" fill="rgb(150,150,150)"/>${noise}
      <circle cx="${x}" cy="${y}" r="${2.5 + random() * 1.5}" fill="rgb(${ink},${ink},${ink})"/></svg>`;
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

export const SYNTHETIC_SETS = [glyphs, sketches, patterns, positions];

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
