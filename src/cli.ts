#!/usr/bin/env node
import { verifyAuditLog } from './audit/verify.js';

const USAGE = 'usage: portcullis audit verify FILE [--head SEQ:HASH]';

/** `portcullis audit verify FILE`: exit 0 when the chain is intact, 1 when not, 2 on misuse. */
async function main(argv: readonly string[]): Promise<number> {
  const [group, command, file, ...rest] = argv;
  if (group !== 'audit' || command !== 'verify' || file === undefined) {
    console.error(USAGE);
    return 2;
  }
  let expectedHead: { seq: number; hash: string } | undefined;
  if (rest[0] === '--head') {
    const match = /^(\d+):([0-9a-f]{64})$/.exec(rest[1] ?? '');
    if (match === null) {
      console.error(`${USAGE}\n--head takes SEQ:HASH as printed by gw.audit.head()`);
      return 2;
    }
    expectedHead = { seq: Number(match[1]), hash: match[2] ?? '' };
  }
  try {
    const verdict = await verifyAuditLog(file, expectedHead === undefined ? {} : { expectedHead });
    if (verdict.ok) {
      console.log(`ok: ${verdict.records} records, chain intact${verdict.head ? ` (head ${verdict.head.seq}:${verdict.head.hash})` : ''}`);
      return 0;
    }
    console.log(`TAMPERED: line ${verdict.line}: ${verdict.reason} (${verdict.records} records verified before it)`);
    return 1;
  } catch (error) {
    console.error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
