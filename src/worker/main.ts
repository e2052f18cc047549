/** `npm run start:worker`: one training worker process; run one per machine (or GPU). */
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, loadConfig } from '../config/config.js';
import { startTrainingWorker } from './training-worker.js';

const config = loadConfig();
const databaseUrl = config.databaseUrl ?? DEFAULT_DATABASE_URL;
// The sandboxed processors read it from the environment.
process.env.DATABASE_URL = databaseUrl;
const redisUrl = config.redisUrl ?? DEFAULT_REDIS_URL;
const running = await startTrainingWorker({ ...config, redisUrl, databaseUrl });
console.log(`graft worker ${process.pid} waiting for jobs on '${config.queueName}'`);
const stop = async () => {
  await running.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
