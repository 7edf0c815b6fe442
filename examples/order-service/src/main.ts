/** `npm start`: the order service on PORT (default 4000), notifying through the Herald its environment names. */
import { connectHerald, type HeraldEnv } from './herald';
import { startOrderService } from './service';

async function main() {
  const env = process.env as unknown as HeraldEnv;
  if (!env.HERALD_URL || !env.HERALD_API_KEY) throw new Error('set HERALD_URL and HERALD_API_KEY');
  const { herald, close } = await connectHerald(env);
  const service = await startOrderService(herald, Number(process.env.PORT ?? 4000));
  console.log(`order service on ${service.url}, notifying over ${herald.transport}`);
  const stop = () => void service.close().then(close);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
