/** GitHub-flavoured markdown tables whose cells cannot break the table or inject HTML. */

/** Escapes text for one table cell: a "|" would end the cell, "<" could open an HTML tag, a newline would end the row. */
export function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

/** Columns whose figures line up on the right. */
export type Alignment = 'left' | 'right';

export interface Column {
  header: string;
  align?: Alignment;
}

/** A table; every cell (headers included) is escaped, so callers pass plain text. */
export function table(columns: Column[], rows: string[][]): string {
  // A row with more cells than headers loses the extra ones when GitHub renders it, silently.
  const uneven = rows.find((row) => row.length !== columns.length);
  if (uneven) throw new Error(`a table row has ${uneven.length} cells for ${columns.length} columns`);
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${columns.map((c) => (c.align === 'right' ? '---:' : ':---')).join('|')}|`;
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n');
}
