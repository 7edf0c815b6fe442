import { run } from './run';

void run({ api: true, worker: true, embedded: true });
