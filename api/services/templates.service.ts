import { sampleDigestData } from '../../domain/digest/digest-data';
import { previewTemplate } from '../../domain/templates/preview';
import { checkTemplateSyntax } from '../../domain/templates/render';
import type { Db } from '../../platform/db';
import type { Prisma } from '../../platform/db';
import { templateInputSchema, type TemplateContent, type TemplatePreviewInput } from '../../contract/schemas';
import { HttpError, notFound } from '../errors';

export interface TemplateServiceOptions {
  /** The operator's email layout (HERALD_EMAIL_LAYOUT_FILE), so previews show the email as it will be sent. */
  emailLayout?: string;
  publicUrl?: string;
}

/** A template that does not parse is refused as a whole: 422, naming the field, line and column. */
function assertSyntax(content: TemplateContent): void {
  const problem = checkTemplateSyntax(content);
  if (problem) {
    throw new HttpError(
      422,
      'template_syntax_error',
      `${problem.field}: line ${problem.line}, column ${problem.column}: ${problem.message}`,
      problem,
    );
  }
}

export function createTemplateService(db: Db, options: TemplateServiceOptions = {}) {
  async function version(id: string, wanted?: number) {
    const template = await db.template.findUnique({ where: { id } });
    if (!template) throw notFound('template', id);
    const number = wanted ?? template.currentVersion;
    const row = await db.templateVersion.findUnique({
      where: { templateId_version: { templateId: id, version: number } },
    });
    if (!row) {
      throw notFound('template_version', id, {
        message: `template ${JSON.stringify(id)} has no version ${number}`,
        details: { version: number },
      });
    }
    return { template, row, content: templateInputSchema.parse(row.content) };
  }

  async function stored(id: string, wanted?: number) {
    const { row, content } = await version(id, wanted);
    return { number: row.version, content };
  }

  /** A draft is checked like a save (422 on a syntax error); its version is the one it would follow (0: none yet). */
  async function draft(id: string, content: TemplateContent) {
    assertSyntax(content);
    const template = await db.template.findUnique({ where: { id } });
    return { number: template?.currentVersion ?? 0, content };
  }

  return {
    /** Every save is a new immutable version; notifications keep rendering the version they were accepted with. */
    async put(id: string, content: TemplateContent) {
      assertSyntax(content);
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

    async get(id: string, wanted?: number) {
      const { template, row } = await version(id, wanted);
      return {
        id,
        version: row.version,
        updatedAt: (wanted ? row.createdAt : template.updatedAt).toISOString(),
        ...(row.content as TemplateContent),
      };
    },

    async versions(id: string) {
      const template = await db.template.findUnique({ where: { id } });
      if (!template) throw notFound('template', id);
      const rows = await db.templateVersion.findMany({
        where: { templateId: id },
        select: { version: true, createdAt: true },
        orderBy: { version: 'desc' },
      });
      return {
        id,
        currentVersion: template.currentVersion,
        versions: rows.map((r) => ({
          version: r.version,
          createdAt: r.createdAt.toISOString(),
          current: r.version === template.currentVersion,
        })),
      };
    },

    /** Renders with sample data; reports SMS segments, push payload size and missing variables per channel. */
    async preview(id: string, input: TemplatePreviewInput) {
      const { number, content } = input.draft ? await draft(id, input.draft) : await stored(id, input.version);
      let userVariables: Record<string, unknown> = {};
      let userLocale: string | null = null;
      if (input.userId) {
        const user = await db.user.findUnique({ where: { id: input.userId } });
        if (!user) throw notFound('user', input.userId);
        // The same `user` variable a real send gets (see activities/channels/plan-deliveries.ts).
        userVariables = { user: { id: user.id, name: user.name, locale: user.locale, data: user.data } };
        userLocale = user.locale;
      }
      const preview = await previewTemplate(content, {
        // A sample digest: the data as `input.digest.count` events, as a digest's template sees them (docs/digests.md).
        data: {
          ...(input.digest
            ? sampleDigestData(input.data ?? {}, input.digest.count, input.digest.distinct ?? [])
            : (input.data ?? {})),
          ...userVariables,
        },
        locale: input.locale ?? userLocale,
        layout: options.emailLayout,
        unsubscribeUrl: `${options.publicUrl ?? ''}/u/preview`,
      });
      return { template: id, version: number, ...preview };
    },
  };
}
