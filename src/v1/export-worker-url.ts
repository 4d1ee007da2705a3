/**
 * Where the compiled snapshot export worker lies: next to this module. Its own module so that the
 * test runner, which runs the sources as CommonJS without `import.meta`, can point it at the build.
 */
export function exportWorkerUrl(): URL {
  return new URL('./export-worker.js', import.meta.url);
}
