import { createHash } from 'crypto';
import type { Pool } from 'mysql2/promise';
import { insertUnique, rows } from './db';

/** How the stand-in's user store keeps a password (one rule for every writer of UM_USER). */
export const passwordHash = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The user store every Basic authentication checks (admin services, DCR, the internal data API,
 * the password grant): UM_USER of WSO2_SHARED_DB, shared by every node.
 */
export class UserStore {
  constructor(private readonly pool: Pool) {}

  async authenticate(user: string, password: string): Promise<boolean> {
    const [row] = await rows(this.pool, 'SELECT UM_USER_PASSWORD FROM UM_USER WHERE UM_USER_NAME = ?', [user]);
    return !!row && row.UM_USER_PASSWORD === passwordHash(password);
  }

  /** Adds a user; false when one of that name exists. */
  add(user: string, password: string): Promise<boolean> {
    return insertUnique(this.pool, 'INSERT INTO UM_USER (UM_USER_NAME, UM_USER_PASSWORD) VALUES (?, ?)', [user, passwordHash(password)]);
  }

  async exists(user: string): Promise<boolean> {
    return (await rows(this.pool, 'SELECT 1 FROM UM_USER WHERE UM_USER_NAME = ?', [user])).length > 0;
  }
}
