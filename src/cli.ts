#!/usr/bin/env node
// The `portcullis` command: a dispatcher. Each command lives in src/serve/.
// Commands are loaded when run: `audit verify` and `--version` do not load the gateway or the MCP SDK.
import { EXIT, packageVersion, USAGE } from './serve/usage.js';

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./serve/serve-command.js')).serveCommand(rest);
    case 'check':
      return (await import('./serve/check-command.js')).checkCommand(rest);
    case 'audit':
      return (await import('./serve/audit-command.js')).auditCommand(argv);
    case '--version':
    case '-v':
      if (rest.length > 0) break;
      console.log(packageVersion());
      return EXIT.ok;
    case '--help':
    case '-h':
    case 'help':
      if (rest.length > 0) break;
      console.log(USAGE);
      return EXIT.ok;
  }
  console.error(`${command === undefined ? 'no command given' : `unknown command ${JSON.stringify(command.slice(0, 100))}`}\n${USAGE}`);
  return EXIT.usage;
}

const code = await main(process.argv.slice(2));
// serve leaves stdin and timers behind it: exit at once, the audit flushed and the gateway closed.
if (process.argv[2] === 'serve') process.exit(code);
process.exitCode = code;
