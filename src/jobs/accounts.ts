// Accounts, their projects and their API keys. Keys are shown once and stored only as
// a SHA-256 hash; a key authenticates as its account.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { type AccountRow, type Database, isStorableText, kindOf, type ProjectRow } from './database.ts';
import { now } from './clock.ts';
import { newAccountId, newApiKey, newKeyId, newProjectId, newWebhookSecret } from './ids.ts';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export class Accounts {
  constructor(private readonly db: Database) {}

  async createAccount(input: { name: string; plan: string }): Promise<AccountRow> {
    const row = { id: newAccountId(), name: input.name, plan: input.plan, created_at: now() };
    await this.db.insertInto('accounts').values(row).execute();
    return row;
  }

  /**
   * On a database with no account yet: one account, its project and a key, made together;
   * undefined when there is an account already. API nodes starting together on a new
   * database make one (Postgres: the accounts table is locked for writes meanwhile).
   */
  async createFirst(input: { name: string; plan: string; projectId: string }) {
    const anyAccount = async (db: Database) =>
      (await db.selectFrom('accounts').select('id').limit(1).executeTakeFirst()) !== undefined;
    // the usual start (accounts exist) takes no lock, which would hold submits back meanwhile
    if (await anyAccount(this.db)) return undefined;
    return this.db.transaction().execute(async (tx) => {
      if (kindOf(this.db) === 'postgres') await sql`lock table accounts in exclusive mode`.execute(tx);
      const accounts = new Accounts(tx);
      if (await anyAccount(tx)) return undefined;
      const account = await accounts.createAccount(input);
      const project = await accounts.createProject({ accountId: account.id, name: input.name, id: input.projectId });
      const key = await accounts.createKey({ accountId: account.id });
      return { account, project, key };
    });
  }

  async createProject(input: { accountId: string; name: string; id?: string }): Promise<ProjectRow> {
    await this.requireAccount(input.accountId);
    if (input.id !== undefined && !/^proj_[A-Za-z0-9_]{1,64}$/.test(input.id))
      throw new Error(`project id "${input.id}" must look like proj_abc123`);
    if (input.id !== undefined && (await this.projectById(input.id)))
      throw new Error(`project "${input.id}" already exists: give another id, or none to get a new one`);
    const row = {
      id: input.id ?? newProjectId(),
      account_id: input.accountId,
      name: input.name,
      webhook_secret: newWebhookSecret(),
      created_at: now(),
    };
    await this.db.insertInto('projects').values(row).execute();
    return row;
  }

  /** Makes a key; the returned `key` is the only time it exists in clear. */
  async createKey(input: {
    accountId: string;
    environment?: 'prod' | 'test';
  }): Promise<{ id: string; key: string; accountId: string }> {
    await this.requireAccount(input.accountId);
    const key = newApiKey(input.environment ?? 'prod');
    const id = newKeyId();
    await this.db
      .insertInto('api_keys')
      .values({
        id,
        account_id: input.accountId,
        hash: hashKey(key),
        prefix: key.slice(0, 12),
        created_at: now(),
        revoked_at: null,
      })
      .execute();
    return { id, key, accountId: input.accountId };
  }

  async revokeKey(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The account a key belongs to, if the key is real and not revoked. */
  async authenticate(key: string): Promise<AccountRow | undefined> {
    return this.db
      .selectFrom('api_keys')
      .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
      .selectAll('accounts')
      .where('api_keys.hash', '=', hashKey(key))
      .where('api_keys.revoked_at', 'is', null)
      .executeTakeFirst();
  }

  async project(accountId: string, projectId: string): Promise<ProjectRow | undefined> {
    if (!isStorableText(projectId)) return undefined;
    return this.db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', projectId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
  }

  async projectById(projectId: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirst();
  }

  async listAccounts(): Promise<AccountRow[]> {
    return this.db.selectFrom('accounts').selectAll().orderBy('created_at').execute();
  }

  private async requireAccount(id: string): Promise<void> {
    const found = await this.db.selectFrom('accounts').select('id').where('id', '=', id).executeTakeFirst();
    if (!found) throw new Error(`no account ${id}`);
  }
}
