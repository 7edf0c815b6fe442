import type { Db } from '../../platform/db';
import { Prisma } from '../../platform/db';
import type { CategoryInput } from '../../contract/schemas';
import { notFound } from '../errors';

type CategoryRow = Prisma.CategoryGetPayload<object>;

const toView = (row: CategoryRow) => ({
  name: row.name,
  ...(row.description ? { description: row.description } : {}),
  critical: row.critical,
  channels: row.channels as CategoryInput['channels'],
  quietHours: row.quietHours as CategoryInput['quietHours'],
  digest: (row.digest ?? null) as CategoryInput['digest'],
  allowDigestPreference: row.allowDigestPreference,
  updatedAt: row.updatedAt.toISOString(),
});

/** Operator-defined categories: default channels, critical (cannot be muted), quiet-hours policy. */
export function createCategoryService(db: Db) {
  return {
    async put(name: string, input: CategoryInput) {
      const data = {
        description: input.description ?? null,
        critical: input.critical,
        channels: input.channels as Prisma.InputJsonValue,
        quietHours: input.quietHours,
        digest: input.digest === null ? Prisma.DbNull : (input.digest as Prisma.InputJsonValue),
        allowDigestPreference: input.allowDigestPreference,
      };
      const existed = await db.category.findUnique({ where: { name }, select: { name: true } });
      const row = await db.category.upsert({ where: { name }, create: { name, ...data }, update: data });
      return { category: toView(row), created: !existed };
    },
    async get(name: string) {
      const row = await db.category.findUnique({ where: { name } });
      if (!row) throw notFound('category', name);
      return toView(row);
    },
    async list() {
      return (await db.category.findMany({ orderBy: { name: 'asc' } })).map(toView);
    },
    async remove(name: string) {
      const { count } = await db.category.deleteMany({ where: { name } });
      if (count === 0) throw notFound('category', name);
    },
  };
}
