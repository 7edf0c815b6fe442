/**
 * The in-app inbox's wire vocabulary: the feed's filters and changes, an item and the counts as the API answers them.
 * The server (domain/inbox, api/inbox) and the client SDK (packages/client) both read it from here. Dependency-free.
 */
export const INBOX_STATUSES = ['unread', 'read', 'unseen', 'all'] as const;
export const INBOX_ARCHIVED = ['exclude', 'include', 'only'] as const;
export const INBOX_ACTIONS = ['read', 'unread', 'seen', 'archive', 'unarchive', 'delete'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];
export type InboxArchived = (typeof INBOX_ARCHIVED)[number];
export type InboxAction = (typeof INBOX_ACTIONS)[number];

export interface InboxFilter {
  status?: InboxStatus;
  archived?: InboxArchived;
  category?: string;
}

export interface InboxCounts {
  /** Items not archived and not read. */
  unread: number;
  /** Items not archived and never seen (the badge). */
  unseen: number;
  /** Items not archived. */
  total: number;
}

export interface InboxItem {
  id: string;
  notificationId: string;
  category: string | null;
  templateId: string | null;
  title: string;
  body: string;
  url: string | null;
  actions: { label: string; url: string }[];
  data: Record<string, string>;
  readAt: string | null;
  seenAt: string | null;
  archivedAt: string | null;
  createdAt: string;
}
