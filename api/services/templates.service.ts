import { checkTemplateSyntax } from '../../activities/templates/render';
import type { Db } from '../../lib/db';
import type { Prisma } from '../../lib/db';
import type { TemplateContent } from '../../lib/schemas';
import { HttpError, notFound } from '../errors';

export function createTemplateService(db: Db) {
  return {
    /** Every save is a new immutable version; notifications keep rendering the version they were accepted with. */
    async put(id: string, content: TemplateContent) {
      const syntaxError = checkTemplateSyntax(content);
      if (syntaxError) throw new HttpError(422, 'template_syntax_error', syntaxError);
      return db.$transaction(async (tx) => {
        const current = await tx.template.findUnique({ where: { id } });
        const version = (current?.currentVersion ?? 0) + 1;
        const template = current
          ? await tx.template.update({ where: { id }, data: { currentVersion: version } })
          : await tx.template.create({ data: { id, currentVersion: version } });
        await tx.templateVersion.create({
          data: { templateId: id, version, content: content as Prisma.InputJsonValue },
        });
        return { id, version, updatedAt: template.updatedAt.toISOString(), ...content, created: !current };
      });
    },

    async get(id: string) {
      const template = await db.template.findUnique({ where: { id } });
      if (!template) throw notFound('template', id);
      const version = await db.templateVersion.findUniqueOrThrow({
        where: { templateId_version: { templateId: id, version: template.currentVersion } },
      });
      return {
        id,
        version: template.currentVersion,
        updatedAt: template.updatedAt.toISOString(),
        ...(version.content as TemplateContent),
      };
    },
  };
}
