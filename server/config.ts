/**
 * The one validated configuration object, built at start-up from the environment: the platform's part
 * (platform/config) and each provider folder's part (activities/providers/providers.config.ts). A bad value stops the
 * process with a ConfigError that names the variable.
 */
import { loadProvidersConfig, providerSecrets, type ProvidersConfig } from '../activities/providers/providers.config';
import { loadPlatformConfig, platformSecrets, type PlatformConfig } from '../platform/config';
import type { Env } from '../platform/config/env';

export interface HeraldConfig extends PlatformConfig {
  providers: ProvidersConfig;
}

export function loadConfig(env: Env = process.env): HeraldConfig {
  return { ...loadPlatformConfig(env), providers: loadProvidersConfig(env) };
}

/**
 * Every secret value in the configuration, for the logger's value-based redaction: a secret that reaches a log line
 * through an error message (a URL with its password, a key in a stack trace) is blanked out as well.
 */
export function configSecrets(config: HeraldConfig): (string | Buffer)[] {
  return [...providerSecrets(config.providers), ...platformSecrets(config)];
}

export { ConfigError, SECRET_VARIABLES } from '../platform/config';
