/**
 * Table types for Kysely. Timestamps are integer milliseconds since the epoch on both
 * dialects (BIGINT in PostgreSQL, parsed back to numbers; INTEGER in SQLite).
 */
export interface InstanceSettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface DB {
  instance_settings: InstanceSettingsTable;
}
