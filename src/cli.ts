#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { verifyAuditLog, type VerifyAuditOptions } from './audit/verify.js';

const USAGE = `usage: portcullis audit verify FILE [--head SEQ:HASH] [--key KEYFILE] [--public-key PEMFILE]

  --head SEQ:HASH        the head recorded elsewhere (gw.audit.head()): a missing tail fails
  --key KEYFILE          key file of a keyed chain (audit.key: 32 bytes, base64)
  --public-key PEMFILE   Ed25519 public key (SPKI PEM) of audit.signingKey: signed heads must verify

exit status: 0 intact, 1 tampered, 2 misuse or unreadable input`;

class Misuse extends Error {}

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
async function main(argv: readonly string[]): Promise<number> {
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
    const names = tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : []));
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) throw new Misuse(`--${repeated} given more than once`);
    if (values.help === true) {
      console.log(USAGE);
      return 0;
    }
    const [group, command, path, ...extra] = positionals;
    if (group !== 'audit' || command !== 'verify' || path === undefined) throw new Misuse('expected: audit verify FILE');
    if (extra.length > 0) throw new Misuse(`unexpected argument ${JSON.stringify(extra[0]?.slice(0, 100))}`);
    file = path;
    if (values.head !== undefined) options = { ...options, expectedHead: parseHead(values.head) };
    if (values.key !== undefined) options = { ...options, key: await readKeyFile(values.key) };
    if (values['public-key'] !== undefined) options = { ...options, publicKey: await readFile(values['public-key'], 'utf8') };
  } catch (error) {
    const message = error instanceof Misuse || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true ? (error as Error).message : `cannot read an argument's file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    console.error(`${message}\n${USAGE}`);
    return 2;
  }
  try {
    const verdict = await verifyAuditLog(file, options);
    if (verdict.ok) {
      const checks = [options.key && 'keyed', options.publicKey && 'signed heads verified', options.expectedHead && 'head anchored'].filter(Boolean).join(', ');
      console.log(`ok: ${verdict.records} records, chain intact${checks === '' ? '' : ` (${checks})`}${verdict.head ? ` (head ${verdict.head.seq}:${verdict.head.hash})` : ''}`);
      return 0;
    }
    console.log(`TAMPERED: line ${verdict.line}: ${verdict.reason} (${verdict.records} records verified before it)`);
    return 1;
  } catch (error) {
    if ((error as { code?: string }).code === 'CONFIG_INVALID') {
      console.error(`${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    console.error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
