import type { OnnxGraph } from './layers-to-onnx.js';

/*
 * ONNX Runtime (onnxruntime-node) on CPU, loaded lazily: where its binary is missing or does
 * not load on this platform, `loadOnnxRuntime` says why and callers stay on tfjs.
 */

type Ort = typeof import('onnxruntime-node');

let loaded: Promise<{ ort: Ort } | { reason: string }> | undefined;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** ONNX Runtime's module, or why it cannot run here. Tried once per process. */
export function loadOnnxRuntime(): Promise<{ ort: Ort } | { reason: string }> {
  loaded ??= import('onnxruntime-node').then(
    (ort) => ({ ort }),
    (error: unknown) => ({ reason: `onnxruntime-node did not load: ${firstLine(error)}` }),
  );
  return loaded;
}

export interface OnnxSessionOptions {
  /** Intra-op threads (one operator spread over cores). */
  threads: number;
  /** Let idle intra-op threads spin (lowest latency when nothing else needs the cores). */
  spin?: boolean;
  /**
   * ORT's CPU memory arena and memory pattern (default on). An arena keeps the peak working
   * memory of the largest run for the session's life; off, memory a run used goes back to the
   * allocator when it ends. Off for serving, where many sessions live at once.
   */
  memoryArena?: boolean;
}

/** One loaded graph: NHWC float32 in, its outputs (as the graph names them) out. */
export interface OnnxSession {
  readonly threads: number;
  /** Runs `batch` images (NHWC float32); one array per graph output, in `graph.outputNames` order. */
  run(input: Float32Array, batch: number): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export class OnnxRuntimeUnavailable extends Error {
  override name = 'OnnxRuntimeUnavailable';
}

/** Starts a CPU session for a converted graph. Throws OnnxRuntimeUnavailable where ORT cannot load. */
export async function createOnnxSession(
  graph: OnnxGraph,
  options: OnnxSessionOptions,
): Promise<OnnxSession> {
  const runtime = await loadOnnxRuntime();
  if ('reason' in runtime) throw new OnnxRuntimeUnavailable(runtime.reason);
  const { ort } = runtime;
  const threads = Math.max(1, Math.floor(options.threads));
  const session = await ort.InferenceSession.create(graph.bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: options.memoryArena ?? true,
    enableMemPattern: options.memoryArena ?? true,
    // Idle intra-op threads sleep instead of spinning: decoding (sharp, on libuv's pool) runs
    // on the same cores between batches and would otherwise wait for spinning threads.
    extra: { session: { intra_op: { allow_spinning: options.spin ? '1' : '0' } } },
  });
  // Not `graph` itself: the session must not keep the serialised model alive.
  const { inputName, outputNames } = graph;
  const [height, width, channels] = graph.inputShape;
  return {
    threads,
    async run(input, batch) {
      const expected = batch * height! * width! * channels!;
      if (input.length !== expected) {
        throw new Error(
          `input has ${input.length} values, expected ${expected} for ${batch} images`,
        );
      }
      const feeds = {
        [inputName]: new ort.Tensor('float32', input, [batch, height!, width!, channels!]),
      };
      const results = await session.run(feeds);
      return outputNames.map((name) => {
        const tensor = results[name]!;
        const data = tensor.data as Float32Array;
        tensor.dispose();
        return data;
      });
    },
    release: () => session.release(),
  };
}
