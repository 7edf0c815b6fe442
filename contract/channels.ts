/**
 * The one vocabulary of channels: every layer (schemas, workflows, activities, providers, the API) names a channel
 * with this type. Dependency-free, so the workflow bundle can import it.
 */
export const CHANNELS = ['push', 'sms', 'email', 'inbox'] as const;
export type Channel = (typeof CHANNELS)[number];
