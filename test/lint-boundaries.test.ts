/**
 * The house plan's boundaries (eslint.config.mjs): imports only run down. ESLint is run on an existing file of each
 * layer with one upward import added, and must refuse it; the same file as it is passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '..');
const eslint = new ESLint({ cwd: root });

async function boundaryErrors(file: string, extraImport: string): Promise<string[]> {
  const text = `${extraImport}\n${fs.readFileSync(path.join(root, file), 'utf8')}`;
  const [result] = await eslint.lintText(text, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
}

it.each([
  ['platform/sql.ts', "import '../domain/notifications/notification-outcome';", 'platform/ must not import domain/'],
  ['domain/inbox/store.ts', "import '../../activities/provider-health';", 'domain/ must not import activities/'],
  ['contract/ids.ts', "import '../platform/sql';", 'contract/ must not import platform/'],
  ['packages/client/src/validate.ts', "import '../../../api/errors';", 'client/ must not import api/'],
  ['activities/delivery/outcomes.ts', "import '../../server/config';", 'activities/ must not import server/'],
])(
  '%s may not import upward (%s)',
  async (file, extraImport, message) => {
    expect(await boundaryErrors(file, '')).toEqual([]);
    const errors = await boundaryErrors(file, extraImport);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
  },
  120_000,
);
