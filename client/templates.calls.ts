/** Template versions and previews: /v1/templates/{templateId}/versions and /preview. */
import { templatePreviewInputSchema, templateVersionParamSchema } from '../contract/schemas';
import { enc, type NeedHttp } from './http.transport';
import type { Template, TemplatePreview, TemplatePreviewInput, TemplateVersions } from './types';
import { parse, parseId } from './validate';

export interface TemplateCalls {
  /**
   * Renders the template with sample data (for a locale, a stored user, a past version) as Herald would send it:
   * per channel the text, SMS encoding and segments, push payload size, and the variables a real send would miss.
   */
  previewTemplate(templateId: string, input?: TemplatePreviewInput): Promise<TemplatePreview>;
  /** Every stored version, newest first. */
  listTemplateVersions(templateId: string): Promise<TemplateVersions>;
  /** One stored version; NotFoundError with `resource` `template_version` (and `id` the template's) when there is none. */
  getTemplateVersion(templateId: string, version: number): Promise<Template>;
}

export function templateCalls(http: NeedHttp): TemplateCalls {
  return {
    async previewTemplate(templateId, input = {}) {
      const id = parseId(templateId, 'templateId');
      const body = parse(templatePreviewInputSchema, input);
      const path = `/v1/templates/${enc(id)}/preview`;
      return (await http('previewTemplate').request<TemplatePreview>('POST', path, { body, id })).body;
    },
    async listTemplateVersions(templateId) {
      const id = parseId(templateId, 'templateId');
      const path = `/v1/templates/${enc(id)}/versions`;
      return (await http('listTemplateVersions').request<TemplateVersions>('GET', path, { id })).body;
    },
    async getTemplateVersion(templateId, version) {
      const id = parseId(templateId, 'templateId');
      const number = parse(templateVersionParamSchema, version, ['version']);
      const path = `/v1/templates/${enc(id)}/versions/${number}`;
      return (await http('getTemplateVersion').request<Template>('GET', path, { id })).body;
    },
  };
}
