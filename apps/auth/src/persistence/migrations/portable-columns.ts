import type { TableColumnOptions } from 'typeorm';

/*
 * Column types portable between SQLite and PostgreSQL: varchar/text, bigint for epoch milliseconds,
 * JSON as text. Keep in step with ../entities.ts. Migrations that ran use these: never change one,
 * add another.
 */
export const key = (name: string): TableColumnOptions => ({ name, type: 'varchar', length: '255', isPrimary: true });
export const varchar = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'varchar', length: '255', isNullable });
export const text = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'text', isNullable });
export const time = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable });
