// Jest runs the sources as CommonJS, where `import.meta.url` does not exist; the worker thread
// runs the compiled module instead, which the global setup keeps up to date with src/.
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

exports.exportWorkerUrl = () => pathToFileURL(join(__dirname, '..', '..', 'dist', 'v1', 'export-worker.js'));
