/** FCM's part of the configuration: a service-account key file, and the project (from the file unless given). */
import { ConfigError, endpoint, group, readFile, type Env } from '../../../../platform/config/env';

export interface FcmConfig {
  projectId: string;
  /** The service-account JSON key (`client_email`, `private_key`, ...). */
  credentials: Record<string, string>;
  /**
   * Where every FCM and Google OAuth connection goes instead of Google's hosts: `http://host:port` (plain TCP) or
   * `https://host:port`. Only scheme, host and port count: requests keep Google's paths and Host headers.
   */
  endpoint?: string;
}

export function loadFcmConfig(env: Env): FcmConfig | undefined {
  const vars = group(env, ['FCM_CREDENTIALS_FILE', 'FCM_PROJECT_ID'] as const, ['FCM_PROJECT_ID']);
  if (!vars) return undefined;
  let credentials: Record<string, string>;
  try {
    credentials = JSON.parse(readFile('FCM_CREDENTIALS_FILE', vars.FCM_CREDENTIALS_FILE!));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('FCM_CREDENTIALS_FILE: not valid JSON');
  }
  if (!credentials.private_key || !credentials.client_email) {
    throw new ConfigError('FCM_CREDENTIALS_FILE: not a service account (private_key and client_email are required)');
  }
  const projectId = vars.FCM_PROJECT_ID ?? credentials.project_id;
  if (!projectId) throw new ConfigError('FCM_PROJECT_ID: required (the credentials file has no project_id)');
  return { projectId, credentials, endpoint: endpoint(env, 'FCM_ENDPOINT') };
}
