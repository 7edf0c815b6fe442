/**
 * The service's Herald client, from its environment. HERALD_URL and HERALD_API_KEY are enough (HTTP transport);
 * with TEMPORAL_ADDRESS and HERALD_ENCRYPTION_KEYS as well, sends go straight through Temporal (the same keys as
 * Herald's workers: payloads are encrypted), and reads still go over HTTP.
 */
import { Client, Connection } from '@temporalio/client';
import { createHeraldClient, heraldDataConverter, type HeraldClient } from '@herald/client';

export interface HeraldEnv {
  HERALD_URL: string;
  HERALD_API_KEY: string;
  TEMPORAL_ADDRESS?: string;
  TEMPORAL_NAMESPACE?: string;
  HERALD_TASK_QUEUE?: string;
  HERALD_ENCRYPTION_KEYS?: string;
}

export async function connectHerald(env: HeraldEnv): Promise<{ herald: HeraldClient; close(): Promise<void> }> {
  const http = { url: env.HERALD_URL, apiKey: env.HERALD_API_KEY };
  if (!env.TEMPORAL_ADDRESS) return { herald: createHeraldClient({ http }), close: async () => {} };
  if (!env.HERALD_ENCRYPTION_KEYS)
    throw new Error('TEMPORAL_ADDRESS needs HERALD_ENCRYPTION_KEYS (Herald encrypts payloads)');
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    dataConverter: heraldDataConverter(env.HERALD_ENCRYPTION_KEYS),
  });
  const herald = createHeraldClient({ http, temporal: { client, taskQueue: env.HERALD_TASK_QUEUE } });
  return { herald, close: () => connection.close() };
}
