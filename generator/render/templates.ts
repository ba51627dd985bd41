import ejs from 'ejs';
import { readFileSync } from 'fs';
import { join } from 'path';
import { PROJECT_ROOT } from '../paths';

const ROOT = PROJECT_ROOT;

/** Renders one of the project's EJS templates (text formats that have no object model). */
export function renderTemplate(relativePath: string, data: Record<string, unknown>): string {
  const file = join(ROOT, relativePath);
  return ejs.render(readFileSync(file, 'utf8'), data, { filename: file, strict: false });
}
