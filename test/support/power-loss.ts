import { openDb, type LevelDb } from '../../src/db/level-db.js';

type Entries = [Uint8Array, Uint8Array][];

async function contents(db: LevelDb): Promise<Entries> {
  return (await db.iterator().all()) as Entries;
}

/**
 * A memory database that keeps an image of its contents after every write, and which of them was
 * the last synced one: an OS crash (power loss) may leave it at any image from there on, and
 * independently of any other database.
 */
export async function imagingDb(): Promise<{ db: LevelDb; count: () => number; crashTo: (wanted: number) => Entries }> {
  const db = await openDb();
  const images: Entries[] = [[]];
  let lastSynced = 0;
  const original = db.batch.bind(db) as (...a: unknown[]) => any;
  const record = async (sync: boolean | undefined) => {
    images.push(await contents(db));
    if (sync) lastSynced = images.length - 1;
  };
  (db as { batch: unknown }).batch = (...args: unknown[]) => {
    if (args.length > 0) return (original(...args) as Promise<void>).then(() => record((args[1] as { sync?: boolean } | undefined)?.sync));
    const chained = original();
    const write = chained.write.bind(chained);
    chained.write = async (options?: { sync?: boolean }) => {
      await write(options);
      await record(options?.sync);
    };
    return chained;
  };
  return { db, count: () => images.length - 1, crashTo: (wanted) => images[Math.max(wanted, lastSynced)]! };
}

/** A fresh memory database holding `image` (what a crash left of a database). */
export async function restoreImage(image: Entries): Promise<LevelDb> {
  const db = await openDb();
  if (image.length > 0) await db.batch(image.map(([key, value]) => ({ type: 'put' as const, key, value })));
  return db;
}
