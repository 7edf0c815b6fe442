/**
 * @temporalio/client is an optional peer dependency: a service that only uses the HTTP transport does not install it.
 * Whatever needs it (the Temporal transport, the data converter) is loaded on first use through loadTemporalModule,
 * so the package loads without it and a Temporal call without it is a HeraldError that says what to install.
 *
 * In the published build (packages/client/build.js), `@temporalio/client`, `@temporalio/common` and
 * `@temporalio/proto` resolve to requireTemporalPeer: common and proto (which the wire contract's codec imports) are
 * required from where @temporalio/client is installed — they are its dependencies, not ours.
 */
import { createRequire } from 'node:module';
import { HeraldError } from './errors';

export const TEMPORAL_CLIENT_MISSING =
  "Herald's Temporal transport needs the @temporalio/client package beside @herald/client: npm install @temporalio/client";

function missing(error: unknown): HeraldError {
  return new HeraldError('temporal_client_missing', TEMPORAL_CLIENT_MISSING, { cause: error });
}

/** `load()` (a require of a module that needs Temporal's SDK), or a clear error when @temporalio/client is absent. */
export function loadTemporalModule<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (code === 'MODULE_NOT_FOUND' && /@temporalio\//.test(String((error as Error).message))) throw missing(error);
    throw error;
  }
}

/** A package of Temporal's SDK, resolved from @temporalio/client's installation (used by the build, see above). */
export function requireTemporalPeer(name: string): unknown {
  let client: string;
  try {
    client = require.resolve('@temporalio/client');
  } catch (error) {
    throw missing(error);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return name === '@temporalio/client' ? require(client) : createRequire(client)(name);
}
