#!/usr/bin/env node
// The `wasmloop` command: see `wasmloop --help`. The host is bundled into dist/ by `npm install`.
import { main } from '../dist/cli.js';

process.exit(await main(process.argv.slice(2)));
