import { ConfigError, loadConfig } from '../server/config';
import { startHerald, type HeraldRoles } from '../server/herald';
import { createLogger } from '../platform/logger';
import { releaseTranspiler } from '../platform/transpiler';

/** Runs Herald with the given roles until SIGINT/SIGTERM; a bad configuration stops it with a clear message. */
export async function run(roles: HeraldRoles): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`herald: configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let herald;
  try {
    herald = await startHerald(config, roles, logger);
  } catch (error) {
    // A port already taken is a configuration problem: said plainly, naming the variable, like the others.
    if (error instanceof ConfigError) console.error(`herald: ${error.message}`);
    logger.fatal({ err: error }, 'herald failed to start');
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
  await releaseTranspiler();
  if (herald.apiUrl) console.log(`Dashboard: ${herald.apiUrl}/dashboard`);
  if (herald.apiUrl && roles.embedded) {
    console.log(`\nHerald is up: ${herald.apiUrl}  (Temporal Web UI: http://localhost:${config.temporal.devUiPort})`);
    // Printed (not logged) on purpose: the embedded default's generated key, so a developer can call the API.
    if (!config.apiKey) console.log(`API key (kept in ${config.dataDir}/api-key): ${herald.apiKey}`);
    console.log('');
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await herald.stop();
    process.exit(0);
  };
  // The embedded Temporal dev server kept dying and its supervisor gave up (it logged why): stop, and say so in the
  // exit code, so that whatever runs Herald sees it.
  void herald.failed.then(async (error) => {
    if (stopping) return;
    stopping = true;
    console.error(`herald: ${error.message}`);
    await herald.stop();
    process.exit(1);
  });
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
