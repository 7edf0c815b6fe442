/**
 * Herald's input and output shapes, once, one file per resource: the API validates with them, /openapi.json is
 * generated from them, the client SDK infers its types from them, and the activities read stored JSON through them.
 */
export * from '../channels';
export * from './common.schemas';
export * from './users.schemas';
export * from './categories.schemas';
export * from './templates.schemas';
export * from './tracking.schemas';
export * from './notifications.schemas';
export * from './api-keys.schemas';
export * from './ops.schemas';
export * from './topics.schemas';
export * from './campaigns.schemas';
export * from './insights.schemas';
