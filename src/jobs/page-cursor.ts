// The cursor of a page of jobs: where the previous page ended, (created_at, id) of its last
// job, opaque to clients.
import { isStorableText } from './database.ts';
import { ServiceError } from './errors.ts';

export interface PageEnd {
  createdAt: string;
  id: string;
}

export function encodeCursor(end: PageEnd): string {
  return Buffer.from(JSON.stringify([end.createdAt, end.id])).toString('base64url');
}

/** The page end a cursor stands for; INVALID_CURSOR when it is not one encodeCursor made. */
export function decodeCursor(cursor: string | undefined): PageEnd | undefined {
  if (!cursor) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    if (typeof createdAt === 'string' && typeof id === 'string' && isStorableText(createdAt) && isStorableText(id))
      return { createdAt, id };
  } catch {
    // fall through
  }
  throw new ServiceError('INVALID_CURSOR', 'cursor is not one this API returned');
}
