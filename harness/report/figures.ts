import type { Figure, Figures } from '../check';

/** A table a report shows: a title, column names and rows of cell texts. */
export interface FigureTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

type Obj = { readonly [key: string]: Figure };
const isObj = (f: Figure): f is Obj => typeof f === 'object' && f !== null && !Array.isArray(f);
const primitive = (f: Figure) => f === null || f === undefined || typeof f !== 'object';
/** Fits in one cell: a value, a list of values, or an object of values. */
const flat = (f: Figure): boolean => primitive(f) || (Array.isArray(f) ? f.every(primitive) : Object.values(f as Obj).every(primitive));

/** One cell: `min / median / max` for a spread, `key: value` pairs for an object, a list for a list. */
export function cell(f: Figure): string {
  if (f === null || f === undefined) return '—';
  if (Array.isArray(f)) return f.every(primitive) ? f.map(cell).join(', ') : JSON.stringify(f);
  if (isObj(f)) {
    const keys = Object.keys(f);
    if (keys.length === 3 && keys.every((k) => ['min', 'median', 'max'].includes(k)))
      return `${cell(f.min)} / ${cell(f.median)} / ${cell(f.max)}`;
    return keys.length ? keys.map((k) => `${k}: ${flat(f[k]) ? cell(f[k]) : JSON.stringify(f[k])}`).join(', ') : '—';
  }
  return String(f);
}

/**
 * A check's figures as tables, never as JSON blobs: the values that fit a cell in one table
 * (`figure | value`), each object of rows (per worker, per variant) as a table of its own with a
 * column per key, each list of records (runs) as a table with a row per record.
 */
export function figureTables(figures: Figures, title = 'figures'): FigureTable[] {
  const simple = Object.entries(figures).filter(([, v]) => flat(v));
  const tables: FigureTable[] = simple.length ? [{ title, columns: ['figure', 'value'], rows: simple.map(([k, v]) => [k, cell(v)]) }] : [];
  for (const [key, value] of Object.entries(figures).filter(([, v]) => !flat(v))) {
    const name = title === 'figures' ? key : `${title} ${key}`;
    if (Array.isArray(value)) {
      const records = value.filter(isObj);
      const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
      tables.push({
        title: name,
        columns: ['#', ...columns],
        rows: records.map((r, i) => [String(i + 1), ...columns.map((c) => cell(r[c]))]),
      });
    } else if (isObj(value) && Object.values(value).every((v) => isObj(v) && flat(v))) {
      const rows = Object.entries(value) as [string, Obj][];
      const columns = [...new Set(rows.flatMap(([, r]) => Object.keys(r)))];
      tables.push({ title: name, columns: ['', ...columns], rows: rows.map(([k, r]) => [k, ...columns.map((c) => cell(r[c]))]) });
    } else if (isObj(value)) {
      tables.push(...figureTables(value, name));
    }
  }
  return tables;
}

export function markdownTable(t: FigureTable): string[] {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
}
