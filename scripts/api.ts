import { run } from './run';

void run({ api: true, worker: false, embedded: false });
