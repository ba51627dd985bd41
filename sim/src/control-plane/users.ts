import { createHash } from 'crypto';
import type { Pool } from 'mysql2/promise';
import type { NodeConfig } from '../config';
import { exec, rows } from '../db';

/** How the stand-in's user store keeps a password (one rule for every writer of UM_USER). */
export const passwordHash = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Creates the super admin in the shared user store (`create_admin_account = true`). */
export async function ensureSuperAdmin(config: NodeConfig, sharedDb: Pool): Promise<void> {
  await exec(sharedDb, 'INSERT IGNORE INTO UM_USER (UM_USER_NAME, UM_USER_PASSWORD) VALUES (?, ?)',
    [config.superAdmin.username, passwordHash(config.superAdmin.password)]);
}

/** True when the shared user store has this user with this password. */
export async function authenticateUser(sharedDb: Pool, user: string, password: string): Promise<boolean> {
  const [row] = await rows(sharedDb, 'SELECT UM_USER_PASSWORD FROM UM_USER WHERE UM_USER_NAME = ?', [user]);
  return !!row && row.UM_USER_PASSWORD === passwordHash(password);
}
