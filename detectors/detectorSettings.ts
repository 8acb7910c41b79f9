/**
 * Validation of a stateful detector's settings: a zod schema whose fields all have defaults, so a
 * partial config (from a file or a test) fills in, and a bad one fails with every field named.
 */
import { z } from 'zod';

/** A positive integer setting (counts, caps, milliseconds) with its default. */
export function positiveInt(fallback: number) {
  return z.number().int().positive().default(fallback);
}

/** The settings `input` gives over the schema's defaults; throws "<what> config: …" naming each bad field. */
export function parseSettings<S extends z.ZodType>(schema: S, what: string, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new Error(`${what} config: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
