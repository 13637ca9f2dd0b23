import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { DB } from './schema.js';

/**
 * Queries on the hot paths (every sent message, every history page) built and compiled by
 * Kysely once per dialect instead of once per call. Building a query's tree and compiling it
 * to SQL cost more server CPU than SQLite took to run the query (a profile of the send path
 * put a sixth of the process in Kysely's parsers and compiler).
 *
 * `build` receives placeholders for the values: each `p.name` stands for the value passed as
 * `name` at run time. It is called once, so it must pass placeholders straight into the query
 * and never compute with them or branch on them (a query whose shape depends on the values
 * is a different query: give each shape its own PreparedQuery, see `Variants`). Compiling
 * checks that: a value derived from a placeholder, or a placeholder Kysely did not turn into a
 * query parameter, is an error the first time the query runs (and so in every test using it).
 */
export class PreparedQuery<Args extends Record<string, unknown>, Row> {
  /** Compiled SQL per dialect adapter class (a transaction shares its database's adapter). */
  private readonly templates = new Map<unknown, Template>();

  constructor(private readonly build: (db: Kysely<DB>, p: Args) => Compilable<Row>) {}

  async execute(db: Kysely<DB>, args: Args): Promise<Row[]> {
    const template = this.template(db);
    const parameters = template.slots.map((slot) => (slot.name === null ? slot.value : args[slot.name]));
    const result = await db.executeQuery<Row>({ ...template.compiled, parameters } as CompiledQuery<Row>);
    return result.rows;
  }

  async first(db: Kysely<DB>, args: Args): Promise<Row | undefined> {
    return (await this.execute(db, args))[0];
  }

  private template(db: Kysely<DB>): Template {
    // The SQL text depends only on the dialect; its adapter class identifies it.
    const dialect = db.getExecutor().adapter.constructor;
    let template = this.templates.get(dialect);
    if (!template) {
      template = compileTemplate(db, this.build);
      this.templates.set(dialect, template);
    }
    return template;
  }
}

/** A family of prepared queries of different shapes (e.g. by which bounds a page has), each compiled once. */
export class Variants<Key, Args extends Record<string, unknown>, Row> {
  private readonly queries = new Map<Key, PreparedQuery<Args, Row>>();

  constructor(
    private readonly make: (key: Key) => PreparedQuery<Args, Row>,
    /** Keys beyond this many are not kept (e.g. list lengths). */
    private readonly max = 256,
  ) {}

  of(key: Key): PreparedQuery<Args, Row> {
    const known = this.queries.get(key);
    if (known) return known;
    const query = this.make(key);
    if (this.queries.size < this.max) this.queries.set(key, query);
    return query;
  }
}

/** The SQL texts of compiled prepared queries, by statement name (a bounded set: one per query shape and dialect). */
const statementNames = new Map<string, string>();

/** The statement name a prepared query's SQL text goes by (PostgreSQL prepares it once per connection), else undefined. */
export function preparedStatementName(sql: string): string | undefined {
  return statementNames.get(sql);
}

interface Template {
  compiled: CompiledQuery;
  /** Per query parameter: the argument it takes (`name`) or a constant written in the builder. */
  slots: ({ name: string; value?: undefined } | { name: null; value: unknown })[];
}

/** Placeholders are strings no caller sends: a NUL byte, a marker and the argument's name. */
const MARK = '\u0000prepared-placeholder:';

function compileTemplate<Args extends Record<string, unknown>>(
  db: Kysely<DB>,
  build: (db: Kysely<DB>, p: Args) => Compilable<unknown>,
): Template {
  const used = new Set<string>();
  const placeholders = new Proxy({} as Args, {
    get(_target, name) {
      if (typeof name !== 'string') throw new Error('prepared query: placeholders are named by strings');
      used.add(name);
      return `${MARK}${name}`;
    },
  });
  const compiled = build(db, placeholders).compile();
  const slots = compiled.parameters.map((value): Template['slots'][number] => {
    if (typeof value !== 'string' || !value.includes(MARK)) return { name: null, value };
    if (!value.startsWith(MARK))
      throw new Error(`prepared query: a value was computed from a placeholder: ${compiled.sql}`);
    const name = value.slice(MARK.length);
    if (!used.has(name)) throw new Error(`prepared query: a value was computed from a placeholder: ${compiled.sql}`);
    return { name };
  });
  if (compiled.sql.includes(MARK)) throw new Error(`prepared query: a placeholder was written into the SQL text`);
  for (const name of used) {
    if (!slots.some((slot) => slot.name === name)) {
      throw new Error(`prepared query: placeholder ${name} is not a parameter of ${compiled.sql}`);
    }
  }
  if (!statementNames.has(compiled.sql)) statementNames.set(compiled.sql, `chatalot_${statementNames.size + 1}`);
  return { compiled, slots };
}
