/** Users in bulk: POST /v1/users/bulk. */
import { bulkUsersSchema } from '../contract/schemas';
import type { NeedHttp } from './http.transport';
import type { BulkUserInput, BulkUsersResult } from './types';
import { parse } from './validate';

export interface UserCalls {
  /**
   * Creates or updates up to 1,000 users in one request, each on its own: the result has one entry per user, in the
   * order given, `created`, `updated` or `error` (with the field and the reason). A bad item does not throw and does
   * not stop the others; only a bad request as a whole does (no users, more than 1,000).
   */
  bulkUpsertUsers(users: BulkUserInput[]): Promise<BulkUsersResult>;
}

export function userCalls(http: NeedHttp): UserCalls {
  return {
    async bulkUpsertUsers(users) {
      // The route's schema checks the batch; each user is checked by the API on its own, as the results report.
      const body = parse(bulkUsersSchema, { users });
      return (await http('bulkUpsertUsers').request<BulkUsersResult>('POST', '/v1/users/bulk', { body })).body;
    },
  };
}
