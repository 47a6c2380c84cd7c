/**
 * Runs `wasmig ARGS` in this process, then prints its peak resident set size (from the
 * kernel's rusage, so it counts memory outside the JavaScript heap too) as the last line
 * of stderr: `peak-rss-bytes N`. For tests that bound what hostile input may cost.
 */
import { main } from '../../src/cli/main.ts';

const code = await main(process.argv.slice(2));
process.stderr.write(`peak-rss-bytes ${process.resourceUsage().maxRSS * 1024}\n`);
process.exitCode = code;
