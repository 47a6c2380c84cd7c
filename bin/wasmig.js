#!/usr/bin/env node
// The compiled CLI (npm ci and npm run build produce dist/ through the prepare script).
import { runProcess } from '../dist/cli/main.js';

void runProcess(process.argv.slice(2));
