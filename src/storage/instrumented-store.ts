import { Readable } from 'node:stream';
import { storageOperationDuration, storageOperationErrors } from '../observability/metrics.js';

type Method = (...args: unknown[]) => unknown;

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/** A reader that stopped reading (a client gone) closes its stream early: not a store fault. */
const PREMATURE_CLOSE = 'ERR_STREAM_PREMATURE_CLOSE';

function timed(operation: string, method: Method, target: object, args: unknown[]): unknown {
  const end = storageOperationDuration.startTimer({ operation });
  const failed = () => {
    storageOperationErrors.inc({ operation });
    end();
  };
  let result: unknown;
  try {
    result = method.apply(target, args);
  } catch (error) {
    failed();
    throw error;
  }
  if (isPromise(result)) {
    return result.then(
      (value) => {
        end();
        return value;
      },
      (error: unknown) => {
        failed();
        throw error;
      },
    );
  }
  if (result instanceof Readable) {
    // Timed until the stream is done; no 'error' listener is added (its reader keeps its own).
    const stream = result;
    stream.once('close', () => {
      const error = stream.errored as { code?: unknown } | null;
      if (error && error.code !== PREMATURE_CLOSE) failed();
      else end();
    });
    return stream;
  }
  end();
  return result;
}

/**
 * `store` with every operation timed and its failures counted, by operation name
 * (graft_storage_operation_duration_seconds, graft_storage_operation_errors_total). Any store
 * (local, S3) and any method it has or gains: calls pass through unchanged, including their
 * errors; a stream is timed until it closes.
 */
export function instrumentStore<T extends object>(store: T): T {
  const wrapped = new Map<PropertyKey, Method>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor')
        return value;
      let method = wrapped.get(property);
      if (!method) {
        const original = value as Method;
        method = (...args: unknown[]) => timed(property, original, target, args);
        wrapped.set(property, method);
      }
      return method;
    },
  });
}
