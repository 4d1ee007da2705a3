/**
 * Hands out views into large shared chunks, for the many small keys and values of a batch. One
 * typed array per node key and value cost an allocation each, and every small one passed to
 * LevelDB's native binding was first copied off the V8 heap; views of one chunk cost neither.
 * A chunk stays alive while any view of it does, so a slab belongs to one batch.
 */
export class ByteSlab {
  private chunk = new Uint8Array(0);
  private start = 0;

  constructor(private readonly chunkSize = 256 * 1024) {}

  /** A chunk with at least `length` free bytes from {@link offset} on, to write into. */
  room(length: number): Uint8Array {
    if (this.chunk.length - this.start < length) {
      this.chunk = new Uint8Array(Math.max(this.chunkSize, length));
      this.start = 0;
    }
    return this.chunk;
  }

  /** Where the next write into the chunk returned by {@link room} starts. */
  get offset(): number {
    return this.start;
  }

  /** The bytes written from {@link offset} up to `end`; the next write starts after them. */
  take(end: number): Uint8Array {
    const view = new Uint8Array(this.chunk.buffer, this.start, end - this.start);
    this.start = end;
    return view;
  }
}
