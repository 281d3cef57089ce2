/**
 * Schemas the Library declares by hand (the model schemas are derived from entities):
 * the answers of the orchestrators' probes.
 */
import { Type, type Static } from 'typebox';

/** `/health`: the process is alive. */
export const Health = Type.Object(
  { status: Type.Literal('ok') },
  { $id: 'Health', description: 'The process is alive.' },
);
export type Health = Static<typeof Health>;

/** `/ready`: the database answers (503 with `status: "unavailable"` when it does not). */
export const Ready = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    database: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  },
  { $id: 'Ready', description: 'Whether the app can serve: its database answers.' },
);
export type Ready = Static<typeof Ready>;
