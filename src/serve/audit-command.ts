import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { verifyAuditLog, type VerifyAuditOptions } from '../audit/verify.js';
import { AUDIT_USAGE, EXIT, isMisuse, Misuse, print, refuseRepeated } from './usage.js';

const HEAD = /^([1-9][0-9]{0,15}):([0-9a-fA-F]{64})$/;

function parseHead(text: string): { seq: number; hash: string } {
  const match = HEAD.exec(text);
  const seq = Number(match?.[1]);
  if (match === null || !Number.isSafeInteger(seq)) throw new Misuse(`--head takes SEQ:HASH as printed by gw.audit.head() (a sequence from 1 and 64 hex digits), not ${JSON.stringify(text.slice(0, 100))}`);
  return { seq, hash: (match[2] as string).toLowerCase() };
}

async function readKeyFile(path: string): Promise<Uint8Array> {
  const text = (await readFile(path, 'utf8')).trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== 32) throw new Misuse(`--key: ${path} does not hold a 32-byte base64 key`);
  return key;
}

/** `portcullis audit verify FILE`: exit 0 when the chain is intact, 1 when not, 2 on misuse. */
export async function auditCommand(argv: readonly string[]): Promise<number> {
  let options: VerifyAuditOptions = {};
  let file: string;
  try {
    const { values, positionals, tokens } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      tokens: true,
      options: { head: { type: 'string' }, key: { type: 'string' }, 'public-key': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    refuseRepeated(tokens);
    if (values.help === true) {
      print(AUDIT_USAGE);
      return EXIT.ok;
    }
    const [group, command, path, ...extra] = positionals;
    if (group !== 'audit' || command !== 'verify' || path === undefined) throw new Misuse('expected: audit verify FILE');
    if (extra.length > 0) throw new Misuse(`unexpected argument ${JSON.stringify(extra[0]?.slice(0, 100))}`);
    file = path;
    if (values.head !== undefined) options = { ...options, expectedHead: parseHead(values.head) };
    if (values.key !== undefined) options = { ...options, key: await readKeyFile(values.key) };
    if (values['public-key'] !== undefined) options = { ...options, publicKey: await readFile(values['public-key'], 'utf8') };
  } catch (error) {
    const message = isMisuse(error) ? error.message : `cannot read an argument's file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    console.error(`${message}\n${AUDIT_USAGE}`);
    return EXIT.usage;
  }
  try {
    const verdict = await verifyAuditLog(file, options);
    if (verdict.ok) {
      const checks = [options.key && 'keyed', options.publicKey && 'signed heads verified', options.expectedHead && 'head anchored'].filter(Boolean).join(', ');
      print(`ok: ${verdict.records} records, chain intact${checks === '' ? '' : ` (${checks})`}${verdict.head ? ` (head ${verdict.head.seq}:${verdict.head.hash})` : ''}`);
      return EXIT.ok;
    }
    print(`TAMPERED: line ${verdict.line}: ${verdict.reason} (${verdict.records} records verified before it)`);
    return EXIT.failure;
  } catch (error) {
    if ((error as { code?: string }).code === 'CONFIG_INVALID') {
      console.error(`${(error as Error).message}\n${AUDIT_USAGE}`);
      return EXIT.usage;
    }
    console.error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return EXIT.usage;
  }
}
