/**
 * The dashboard's calls: the client SDK's HTTP transport and its call modules (herald/client without the Temporal
 * transport and the payload codec, which need Node), plus typed reads the SDK does not wrap yet. The key lives in
 * sessionStorage only: gone when the tab closes, never in a cookie, never in a URL.
 */
import { HttpTransport } from '../packages/client/src/http.transport';
import { notificationCalls } from '../packages/client/src/notifications.calls';
import { templateCalls } from '../packages/client/src/templates.calls';
import { trackingCalls } from '../packages/client/src/tracking.calls';
import type {
  Campaign,
  CampaignPage,
  CampaignRunPage,
  Device,
  Notification,
  Preferences,
  SendResult,
  Template,
  TemplateInput,
  User,
  UserErasure,
} from '../packages/client/src/types';
import type { ApiKeyScope, ApiKeyView } from '../contract/schemas';
import type { ProviderHealthView, StatsSeries } from '../contract/schemas/insights.schemas';

const KEY = 'herald.apiKey';

export interface Session {
  keyId: string;
  scopes: ApiKeyScope[];
  temporalUiUrl: string | null;
  namespace: string;
}

export interface QueueStat {
  taskQueue: string;
  type: 'workflow' | 'activity';
  backlogCount: number;
  backlogAgeSeconds: number;
  pollers: number;
}

export const storedKey = (): string | null => sessionStorage.getItem(KEY);
export const forgetKey = (): void => sessionStorage.removeItem(KEY);

/** Checks the key with Herald before keeping it: a wrong key is refused here, not on the first view. */
export async function signIn(apiKey: string): Promise<Session> {
  const response = await fetch('/dashboard/session', { headers: { authorization: `Bearer ${apiKey}` } });
  if (response.status === 401) throw new Error('This API key was refused: it is wrong or revoked.');
  if (!response.ok) throw new Error(`Herald answered ${response.status}`);
  sessionStorage.setItem(KEY, apiKey);
  return (await response.json()) as Session;
}

export function createApi(apiKey: string) {
  // One retry at most: an operator would rather see an error than wait through backoff.
  const http = new HttpTransport({
    url: location.origin,
    apiKey,
    retry: { maxAttempts: 2 },
    // The browser's fetch must be called on window ("Illegal invocation" otherwise).
    fetch: (input, init) => window.fetch(input, init),
  });
  const need = () => http;
  const get = async <T>(path: string, query?: Record<string, string | undefined>) =>
    (await http.request<T>('GET', path, { query })).body;
  const post = async <T>(path: string, body?: unknown) => (await http.request<T>('POST', path, { body })).body;
  const enc = encodeURIComponent;

  return {
    ...notificationCalls(need),
    ...templateCalls(need),
    ...trackingCalls(need),
    getNotification: (id: string): Promise<Notification> => http.get(id),
    cancelNotification: (id: string) => http.cancel(id),
    send: (input: { userId: string; template: string; data?: Record<string, unknown> }): Promise<SendResult> =>
      http.send({ ...input, eventId: `dashboard-test-${crypto.randomUUID()}` }),
    getUser: (userId: string): Promise<User> => http.getUser(userId),
    listDevices: (userId: string): Promise<Device[]> => http.listDevices(userId),
    getPreferences: (userId: string): Promise<Preferences> => http.getPreferences(userId),
    deleteUser: (userId: string): Promise<UserErasure> => http.deleteUser(userId),
    getTemplate: (id: string): Promise<Template> => http.getTemplate(id),
    putTemplate: (id: string, input: TemplateInput): Promise<Template> => http.putTemplate(id, input),
    series: (query: { from: string; to: string; bucket: 'hour' | 'day' }) =>
      get<StatsSeries>('/v1/stats/series', query),
    queues: () => get<{ taskQueues: QueueStat[]; at: string }>('/v1/ops/queues'),
    providers: () => get<ProviderHealthView>('/v1/ops/providers', { windowMinutes: '15' }),
    listCampaigns: () => get<CampaignPage>('/v1/campaigns', { limit: '50' }),
    latestRun: async (campaignId: string) =>
      (await get<CampaignRunPage>(`/v1/campaigns/${enc(campaignId)}/runs`, { limit: '1' })).runs[0],
    pauseCampaign: (id: string) => post<Campaign>(`/v1/campaigns/${enc(id)}/pause`),
    resumeCampaign: (id: string) => post<Campaign>(`/v1/campaigns/${enc(id)}/resume`),
    apiKeys: async () => (await get<{ apiKeys: ApiKeyView[] }>('/v1/api-keys')).apiKeys,
    revokeApiKey: async (id: string) => (await http.request<ApiKeyView>('DELETE', `/v1/api-keys/${enc(id)}`)).body,
  };
}
export type Api = ReturnType<typeof createApi>;
