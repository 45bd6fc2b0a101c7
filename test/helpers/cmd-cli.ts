/**
 * The `wasmloop` command from source (host/cli.ts), as bin/wasmloop.js runs the bundled one,
 * for end-to-end tests that should not depend on dist/ having been rebuilt.
 */
import { main } from '../../host/cli.ts';

process.exit(await main(process.argv.slice(2)));
