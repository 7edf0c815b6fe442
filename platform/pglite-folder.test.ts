import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from './db';
import { createPgliteFolder, ensurePgliteTemplate, templateIsCurrent } from './pglite-folder';

jest.setTimeout(60_000);

describe('the embedded database folder', () => {
  let work: string;
  let template: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-pglite-folder-'));
    template = path.join(work, 'template');
    expect(ensurePgliteTemplate(template)).toBe(true);
    // A file only the template has: a folder holding it was copied, not made by initdb.
    fs.writeFileSync(path.join(template, 'copied-from-template'), '');
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  async function answers(folder: string): Promise<{ sharedBuffers: string; one: number }> {
    // openDatabase is what npm start uses: it finds the folder made and opens it with Herald's start parameters.
    const db = openDatabase({ pgliteDir: folder });
    try {
      const [buffers] = await db.sql.query<{ shared_buffers: string }>('SHOW shared_buffers');
      const [row] = await db.sql.query<{ one: number }>('SELECT 1 AS one');
      return { sharedBuffers: buffers!.shared_buffers, one: row!.one };
    } finally {
      await db.close();
    }
  }

  it('makes the template once, stamped with the PGlite version', () => {
    expect(templateIsCurrent(template)).toBe(true);
    expect(ensurePgliteTemplate(template)).toBe(false);
    const stamp = fs.readFileSync(`${template}.version`, 'utf8');
    fs.writeFileSync(`${template}.version`, '0.0.0');
    expect(templateIsCurrent(template)).toBe(false);
    fs.writeFileSync(`${template}.version`, stamp);
  });

  it('copies the template into a new folder, which opens as a database with small shared buffers', async () => {
    const folder = path.join(work, 'a', 'pglite');
    createPgliteFolder(folder, template);
    expect(fs.existsSync(path.join(folder, 'copied-from-template'))).toBe(true);
    expect(fs.existsSync(`${folder}.creating`)).toBe(false);
    expect(await answers(folder)).toEqual({ sharedBuffers: '16MB', one: 1 });
  });

  it('runs initdb in a child process when there is no template, and leaves no half-made folder behind', async () => {
    const folder = path.join(work, 'b', 'pglite');
    // What a kill during an earlier creation leaves: cleared, never opened.
    fs.mkdirSync(`${folder}.creating`, { recursive: true });
    fs.writeFileSync(path.join(`${folder}.creating`, 'PG_VERSION'), '17');
    createPgliteFolder(folder, path.join(work, 'no-template'));
    expect(fs.existsSync(path.join(folder, 'copied-from-template'))).toBe(false);
    expect(fs.existsSync(`${folder}.creating`)).toBe(false);
    expect(await answers(folder)).toEqual({ sharedBuffers: '16MB', one: 1 });
  });

  it('opens a folder that holds a database as it is', async () => {
    const folder = path.join(work, 'c', 'pglite');
    createPgliteFolder(folder, template);
    const db = openDatabase({ pgliteDir: folder });
    await db.sql.query('CREATE TABLE kept (v int)');
    await db.sql.query('INSERT INTO kept VALUES (7)');
    await db.close();
    createPgliteFolder(folder, path.join(work, 'no-template'));
    const again = openDatabase({ pgliteDir: folder });
    try {
      expect(await again.sql.query('SELECT v FROM kept')).toEqual([{ v: 7 }]);
    } finally {
      await again.close();
    }
  });

  it('refuses a folder that holds files but no database, and leaves them', () => {
    const folder = path.join(work, 'd', 'pglite');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'mine');
    expect(() => createPgliteFolder(folder, template)).toThrow(/not empty but holds no database/);
    expect(fs.readFileSync(path.join(folder, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
