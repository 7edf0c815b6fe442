import pino from 'pino';

/**
 * Structured logs. Anything that looks like a credential or contact detail is redacted by key, so a careless
 * `logger.info({ config })` cannot leak it.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info') {
  return pino({
    level,
    redact: {
      paths: [
        '*.apiKey',
        '*.authToken',
        '*.keyPem',
        '*.credentials',
        '*.password',
        '*.email',
        '*.phone',
        '*.token',
        '*.secret',
        'req.headers.authorization',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}

export type Logger = pino.Logger;
