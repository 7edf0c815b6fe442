import { run } from './run';

void run({ api: false, worker: true, embedded: false });
