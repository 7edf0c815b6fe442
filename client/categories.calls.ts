/** Categories the operator defines: default channels, critical, quiet-hours policy. /v1/categories. */
import { categoryInputSchema } from '../contract/schemas';
import { enc, type NeedHttp } from './http.transport';
import type { Category, CategoryInput } from './types';
import { parse, parseId } from './validate';

export interface CategoryCalls {
  /** Creates or replaces the category: fields left out take their defaults. */
  putCategory(name: string, input: CategoryInput): Promise<Category>;
  getCategory(name: string): Promise<Category>;
  /** Every category, by name. */
  listCategories(): Promise<Category[]>;
  /** Sends in the category then follow only the users' preferences. */
  deleteCategory(name: string): Promise<void>;
}

export function categoryCalls(http: NeedHttp): CategoryCalls {
  const path = (name: string) => `/v1/categories/${enc(name)}`;
  return {
    async putCategory(name, input) {
      const id = parseId(name, 'name');
      const body = parse(categoryInputSchema, input);
      return (await http('putCategory').request<Category>('PUT', path(id), { body, id })).body;
    },
    async getCategory(name) {
      const id = parseId(name, 'name');
      return (await http('getCategory').request<Category>('GET', path(id), { id })).body;
    },
    async listCategories() {
      return (await http('listCategories').request<{ categories: Category[] }>('GET', '/v1/categories')).body
        .categories;
    },
    async deleteCategory(name) {
      const id = parseId(name, 'name');
      await http('deleteCategory').request('DELETE', path(id), { id });
    },
  };
}
