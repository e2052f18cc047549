import type { JobStatus as ApiJobStatus } from '../contracts/training-summary.js';
import type { JobStatus as DbJobStatus } from './generated/enums.js';

/** Compiles only while the API's job statuses and the database enum are the same set. */
type SameSet<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const JOB_STATUSES_MATCH_DATABASE: SameSet<ApiJobStatus, DbJobStatus> = true;
