/** Rows as aligned columns (each as wide as its widest cell), the first row the header. */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => `${indent}${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}`.trimEnd())
    .join('\n');
}
