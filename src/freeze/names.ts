// Bookmark names: safe in a file name, a shell variable ($RILL_BOOKMARK in a snapshot path) and a
// command line, so a hook can use them unquoted.
import { RillError } from '../errors.js';

/** 1 to 128 characters: letters, digits and . _ : @ + -, starting with a letter or digit. */
export const BOOKMARK_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;

/** Throws a usage error naming the flag or argument when name is not a valid bookmark name. */
export function checkBookmarkName(name: string, where: string): string {
  if (BOOKMARK_NAME.test(name)) return name;
  const why = name === '' ? 'it is empty' : name.length > 128 ? 'it is longer than 128 characters' : `it holds ${JSON.stringify(name.match(/[^A-Za-z0-9._:@+-]/)?.[0] ?? name[0])} or does not start with a letter or digit`;
  throw new RillError('usage', `${where}: ${JSON.stringify(name)} is not a valid bookmark name (${why}); use 1 to 128 of A-Z a-z 0-9 . _ : @ + -, starting with a letter or digit`);
}
