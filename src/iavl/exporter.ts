import type { Observable } from 'rxjs';
import { fromBatchReader } from '../core/batch-reader.js';
import { ExportReader, type ExportNode } from './export-reader.js';
import type { NodeDb } from './node-db.js';

// Apart from ExportReader so that the walk loads without RxJS (the snapshot export worker).

/**
 * The nodes of `version` in depth-first post-order as a cold Observable: reading starts on
 * subscribe, proceeds in batches of `batchSize` nodes only as the subscriber takes them, and
 * unsubscribing stops the walk and releases the version pin. For an asynchronous consumer, pull
 * batches from {@link ExportReader} directly.
 */
export function exportTree(ndb: NodeDb, version: number, options: { batchSize?: number } = {}): Observable<ExportNode> {
  return fromBatchReader(() => ExportReader.open(ndb, version), options.batchSize ?? 1024);
}
