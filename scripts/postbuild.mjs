// tsc does not copy the protobufjs static code (plain JS beside its .d.ts): copy it into dist/.
// The `bin` entry must be executable when dist/ is used straight from a clone (npm sets the mode
// only when it installs the package).
import { chmodSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const from = 'src/proto';
const to = 'dist/proto';
for (const file of readdirSync(from)) {
  if (/^generated\.(js|d\.ts)$/.test(file)) copyFileSync(join(from, file), join(to, file));
}
chmodSync('dist/cli/main.js', 0o755);
