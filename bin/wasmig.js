#!/usr/bin/env node
// The compiled CLI (npm ci and npm run build produce dist/ through the prepare script).
// `run` and `resume` start from one bundled file when it is up to date (see
// tools/build-run-bundle.ts): Node loads it 50-60 ms sooner than 150 separate modules.
import { statSync } from 'node:fs';

const argv = process.argv.slice(2);
const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = (argv[0] === 'run' || argv[0] === 'resume') && mtime('../dist/run/main.js') >= mtime('../dist/cli/main.js');
const { runProcess } = await import(bundled ? '../dist/run/main.js' : '../dist/cli/main.js');
void runProcess(argv);
