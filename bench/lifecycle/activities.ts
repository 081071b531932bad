import type { Db } from 'mongodb';

/**
 * The baseline's one activity: a single write by `_id` to the read model,
 * the least any activity of a dossier does (most of them are such a write).
 * A no-op would leave out the one-writer FerretDB every dossier pays for.
 */
export function createBaselineActivities(db: Db) {
  const coll = db.collection<{ _id: string; seq: number; at: Date }>('bench_baseline');
  return {
    async touch(input: { key: string; seq: number }): Promise<void> {
      await coll.updateOne({ _id: input.key }, { $max: { seq: input.seq }, $set: { at: new Date() } }, { upsert: true });
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
