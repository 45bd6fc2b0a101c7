/** The bench's progress output: one line per call, and errors cut to their first line. */

export const say = (s: string): void => {
  process.stdout.write(s + '\n');
};

/** The first line of an error's message, at most 300 characters (it goes into a table cell). */
export const errorLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
