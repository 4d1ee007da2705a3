import { parentPort, workerData } from 'node:worker_threads';
import { SnapshotReader } from '../commitment/snapshot-reader.js';
import { StoreError } from '../core/errors.js';
import { type LevelDb, openDb } from '../db/level-db.js';
import { Namespace } from '../db/namespace.js';
import { NodeDb } from '../iavl/node-db.js';
import type { ExportWorkerData, ExportWorkerReply, ExportWorkerRequest } from './export-worker-protocol.js';
import { serializeError } from './export-worker-protocol.js';
import { packSnapshotItems } from './snapshot-batch-codec.js';

// The snapshot export of store/v1 on a thread of its own (see WorkerSnapshotReader): it walks the
// trees and packs each batch into one buffer that is transferred, not copied, to the caller.
// Every module it imports is loaded again in this thread's heap: it imports the walk and the
// database, never the store classes (RxJS and the protobuf code alone would cost ~10 MiB here),
// so the caller tells it where each tree lies.

const port = parentPort;
if (port === null) throw new Error('export-worker.js runs only as a worker thread');
const data = workerData as ExportWorkerData;

let db: LevelDb | undefined;
let reader: SnapshotReader | undefined;

function reply(message: ExportWorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function start(): Promise<void> {
  // The database is open on the thread that started this worker, and this opening shares it; it
  // must never create one.
  const shared = await openDb(data.location, { mustExist: true });
  db = shared;
  // No node cache: the walk reads every node once and bypasses it anyway. The caller checked the
  // version and pins it on its thread for as long as this reader lives.
  const trees = new Map(data.trees.map((tree) => [tree.storeKey, new NodeDb(new Namespace(shared, tree.prefix), 0)]));
  for (const tree of data.trees) {
    // A tree this thread does not find where the caller did would export as an empty store.
    if ((await trees.get(tree.storeKey)!.hasVersion(data.version)) !== tree.hasVersion) {
      throw new StoreError('ERR_STATE', `store ${tree.storeKey}: the export worker ${tree.hasVersion ? 'does not find' : 'finds'} version ${data.version}, unlike its caller`);
    }
  }
  reader = SnapshotReader.ofCheckedVersion({ storeKeys: data.trees.map((tree) => tree.storeKey), nodeDb: (name) => trees.get(name)! }, data.version);
}

async function handle(request: ExportWorkerRequest): Promise<void> {
  if (request.type === 'close') {
    try {
      await reader?.close();
    } finally {
      try {
        await db?.close();
      } finally {
        port!.close();
      }
    }
    return;
  }
  const items = await reader!.read(request.max);
  const buffer = packSnapshotItems(items);
  reply({ type: 'batch', buffer }, [buffer]);
}

// Requests are handled one after the other, in the order they came. A worker that could not
// start reports why instead of `ready` and ends.
const started = start().then(
  () => {
    reply({ type: 'ready' });
    return true;
  },
  async (error: unknown) => {
    reply({ type: 'error', error: serializeError(error) });
    await db?.close().catch(() => undefined);
    port.close();
    return false;
  },
);
let queue: Promise<unknown> = started;
port.on('message', (request: ExportWorkerRequest) => {
  queue = queue.then(async () => {
    if (!(await started)) return;
    try {
      await handle(request);
    } catch (error) {
      reply({ type: 'error', error: serializeError(error) });
    }
  });
});
