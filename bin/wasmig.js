#!/usr/bin/env node
// The compiled CLI (npm ci and npm run build produce dist/ through the prepare script).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
