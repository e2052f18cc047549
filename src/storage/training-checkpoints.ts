import type {
  FeaturesCheckpoint,
  PhaseCheckpoint,
  TrainingCheckpoints,
} from '../training/checkpoint-types.js';
import type { PhaseName } from '../training/training-types.js';
import type { ArtifactStore } from './artifact-store.js';

/*
 * A job's checkpoints in the artifact store, so a run on any machine can continue another's:
 * `checkpoints/<jobId>/<attempt>/features.ckpt` once the feature cache is built, and
 * `checkpoints/<jobId>/<attempt>/<phase>.ckpt` rewritten at the end of every epoch. Each run
 * writes under its own attempt number, so a superseded run that still writes cannot spoil the
 * checkpoint its successor reads; a run reads the newest one an earlier attempt left. Every
 * file carries the job's fingerprint (spec, base, examples): a checkpoint of anything else is
 * ignored. The whole folder goes when the job ends (and the reaper sweeps what a crash left).
 */

export const CHECKPOINTS_PREFIX = 'checkpoints';
export const checkpointsKey = (jobId: string): string => `${CHECKPOINTS_PREFIX}/${jobId}`;
const fileKey = (jobId: string, attempt: number, part: string) =>
  `${checkpointsKey(jobId)}/${attempt}/${part}.ckpt`;

const MAGIC = 'GRAFTCK1';
const TYPED = {
  Float32Array,
  Int32Array,
  Uint8Array,
} as const;
type TypedName = keyof typeof TYPED;
type Typed = Float32Array | Int32Array | Uint8Array;

interface TypedRef {
  $typed: TypedName;
  offset: number;
  length: number;
}

const typedName = (value: unknown): TypedName | undefined =>
  value instanceof Float32Array
    ? 'Float32Array'
    : value instanceof Int32Array
      ? 'Int32Array'
      : value instanceof Uint8Array && !Buffer.isBuffer(value)
        ? 'Uint8Array'
        : undefined;

/**
 * One file: magic, a JSON header in which every typed array is a reference, then the arrays'
 * bytes (each 8-byte aligned).
 */
export function encodeCheckpoint(value: unknown): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  const header = JSON.stringify(value, (_key, v: unknown) => {
    const name = typedName(v);
    if (!name) return v;
    const typed = v as Typed;
    const bytes = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
    const ref: TypedRef = { $typed: name, offset, length: typed.length };
    const padded = Math.ceil(bytes.length / 8) * 8;
    chunks.push(bytes, Buffer.alloc(padded - bytes.length));
    offset += padded;
    return ref;
  });
  const head = Buffer.from(header, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(head.length);
  const pad = Buffer.alloc((8 - ((MAGIC.length + 4 + head.length) % 8)) % 8);
  return Buffer.concat([Buffer.from(MAGIC), length, head, pad, ...chunks]);
}

export function decodeCheckpoint(data: Buffer): unknown {
  if (data.subarray(0, MAGIC.length).toString() !== MAGIC) throw new Error('not a checkpoint');
  const headLength = data.readUInt32LE(MAGIC.length);
  const headStart = MAGIC.length + 4;
  const header = data.subarray(headStart, headStart + headLength).toString('utf8');
  const body = headStart + headLength + ((8 - ((headStart + headLength) % 8)) % 8);
  return JSON.parse(header, (_key, v: unknown) => {
    const ref = v as Partial<TypedRef> | null;
    if (!ref || typeof ref !== 'object' || typeof ref.$typed !== 'string') return v;
    const Kind = TYPED[ref.$typed];
    const start = body + ref.offset!;
    const end = start + ref.length! * Kind.BYTES_PER_ELEMENT;
    if (!Kind || end > data.length) throw new Error('checkpoint is truncated');
    // A copy: aligned, and independent of the buffer it was read into.
    const bytes = new Uint8Array(data.subarray(start, end));
    return new Kind(bytes.buffer, 0, ref.length);
  });
}

interface Stamped<T> {
  fingerprint: string;
  checkpoint: T;
}

/** Where a run continued from, for the job's record. */
export interface ResumePoint {
  /** The attempt whose checkpoints were read. */
  fromAttempt: number;
  features: boolean;
  /** The last completed epoch of a trained phase, when one was saved. */
  phase?: { name: PhaseName; epoch: number };
}

export interface OpenedCheckpoints extends TrainingCheckpoints {
  resumed?: ResumePoint;
}

export interface CheckpointOptions {
  store: ArtifactStore;
  jobId: string;
  /** This run's attempt number (1 for the first run). */
  attempt: number;
  /** Identifies what the job trains on: a checkpoint with another one is ignored. */
  fingerprint: string;
  /** A save that failed (disk full): logged, never thrown. */
  onSaveError?: (error: unknown) => void;
}

async function read<T>(
  store: ArtifactStore,
  key: string,
  fingerprint: string,
): Promise<T | undefined> {
  try {
    if (!(await store.exists(key))) return undefined;
    const stamped = decodeCheckpoint(await store.get(key)) as Stamped<T>;
    return stamped.fingerprint === fingerprint ? stamped.checkpoint : undefined;
  } catch {
    return undefined; // unreadable (half-written before a crash, or another format): ignored
  }
}

const PHASES: PhaseName[] = ['featureExtraction', 'fineTuning'];

/**
 * Reads what the newest earlier attempt left (features and each phase, newest of each), and
 * returns the run's checkpoints: that state, and saves under this attempt.
 */
export async function openCheckpoints(options: CheckpointOptions): Promise<OpenedCheckpoints> {
  const { store, jobId, attempt, fingerprint } = options;
  let features: FeaturesCheckpoint | undefined;
  const phases: Partial<Record<PhaseName, PhaseCheckpoint>> = {};
  let fromAttempt = 0;
  for (let earlier = attempt - 1; earlier >= 1 && !features; earlier--) {
    features = await read<FeaturesCheckpoint>(
      store,
      fileKey(jobId, earlier, 'features'),
      fingerprint,
    );
    if (!features) continue;
    fromAttempt = earlier;
    // Phase progress only counts with the features it was trained on: from this attempt or later.
    for (let later = attempt - 1; later >= earlier; later--) {
      for (const phase of PHASES) {
        if (phases[phase]) continue;
        const saved = await read<PhaseCheckpoint>(store, fileKey(jobId, later, phase), fingerprint);
        if (saved) phases[phase] = saved;
      }
    }
  }
  const save = async (part: string, checkpoint: unknown) => {
    try {
      await store.put(fileKey(jobId, attempt, part), encodeCheckpoint({ fingerprint, checkpoint }));
    } catch (error) {
      options.onSaveError?.(error);
    }
  };
  const latest = phases.fineTuning ?? phases.featureExtraction;
  return {
    ...(features ? { features } : {}),
    phases,
    ...(features
      ? {
          resumed: {
            fromAttempt,
            features: true,
            ...(latest ? { phase: { name: latest.phase, epoch: latest.epoch } } : {}),
          },
        }
      : {}),
    saveFeatures: (checkpoint) => save('features', checkpoint),
    savePhase: (checkpoint) => save(checkpoint.phase, checkpoint),
  };
}

/** A job that ended needs none of its checkpoints. */
export async function removeCheckpoints(store: ArtifactStore, jobId: string): Promise<void> {
  await store.remove(checkpointsKey(jobId));
}
