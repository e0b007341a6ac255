import type { Condition } from './schema.js';
import { normalisePercent, urlFacts } from './url-facts.js';

const HTTP_TOOLS: ReadonlySet<string> = new Set(['http.fetch', 'pay.fetch']);

function canonicalHost(value: string): string | undefined {
  try {
    return urlFacts(new URL(`http://${value}/`), 'GET').host as string;
  } catch {
    return undefined;
  }
}

function canonicalUrl(value: string, part: 'origin' | 'url'): string | undefined {
  try {
    return urlFacts(new URL(value), 'GET')[part] as string;
  } catch {
    return undefined;
  }
}

function canonicalPath(value: string): string | undefined {
  if (!value.startsWith('/')) return undefined;
  try {
    return normalisePercent(new URL(value, 'http://h').pathname);
  } catch {
    return undefined;
  }
}

const FS_TOOLS: ReadonlySet<string> = new Set(['fs.readFile', 'fs.listDir', 'fs.stat']);
/** A file's extension fact: lower case with its dot (`.csv`), or empty. */
const canonicalExtension = (value: string): string | undefined => {
  const lower = value.toLowerCase();
  return lower === '' || (lower.startsWith('.') && !lower.slice(1).includes('.') && !lower.includes('/')) ? lower : lower.includes('.') || lower.includes('/') ? undefined : `.${lower}`;
};

/** How the HTTP facts are spelled; a literal spelled otherwise never equals a fact. */
const CANONICAL: Readonly<Record<string, (value: string) => string | undefined>> = {
  host: canonicalHost,
  scheme: (v) => v.toLowerCase(),
  method: (v) => v.toUpperCase(),
  origin: (v) => canonicalUrl(v, 'origin'),
  url: (v) => canonicalUrl(v, 'url'),
  path: canonicalPath,
};

/** The payment facts of `pay.fetch` (what its 402 asks), as the payer spells them. */
const PAYMENT_SCHEMES: Readonly<Record<string, string>> = { l402: 'L402', lsat: 'LSAT', payment: 'Payment', cashu: 'cashu' };
const PAYMENT_METHODS: Readonly<Record<string, string>> = { lightning: 'lightning', cashu: 'cashu' };
const PAY_CANONICAL: Readonly<Record<string, (value: string) => string | undefined>> = {
  ...CANONICAL,
  paymentScheme: (v) => PAYMENT_SCHEMES[v.toLowerCase()],
  paymentMethod: (v) => PAYMENT_METHODS[v.toLowerCase()],
};

/** On `pay.fetch`, `scheme` and `method` are the request's (`https`, `GET`): a payment's value there is a mistake. */
function paymentValueOnRequestFact(tool: string, fact: string, literal: string): string | undefined {
  if (tool !== 'pay.fetch') return undefined;
  if (fact === 'scheme' && PAYMENT_SCHEMES[literal.toLowerCase()] !== undefined) return `"scheme" is the URL's (http, https): write paymentScheme: ${JSON.stringify(PAYMENT_SCHEMES[literal.toLowerCase()])}`;
  if (fact === 'method' && PAYMENT_METHODS[literal.toLowerCase()] !== undefined) return `"method" is the HTTP method (GET, POST): write paymentMethod: ${JSON.stringify(PAYMENT_METHODS[literal.toLowerCase()])}`;
  return undefined;
}

/**
 * The literals of an HTTP rule that are not spelled as the facts are (`Evil.COM`, `bücher.de`,
 * `get`, `/café`), or of a file rule's extension (`PEM`, `.Key`): such a literal never equals a fact, so a deny rule with it would never match.
 * Returns one message per literal, naming the canonical spelling to write.
 */
export function nonCanonicalHttpLiterals(tool: string, fact: string, condition: Condition): string[] {
  const canonical = tool === 'pay.fetch' ? PAY_CANONICAL[fact] : HTTP_TOOLS.has(tool) ? CANONICAL[fact] : FS_TOOLS.has(tool) && fact === 'extension' ? canonicalExtension : undefined;
  if (canonical === undefined) return [];
  const literals: unknown[] = [condition.equals, ...(condition.in ?? []), ...(condition.notIn ?? []), ...(condition.anyIn ?? [])];
  if (fact === 'path' && condition.prefix !== undefined) literals.push(...(typeof condition.prefix === 'string' ? [condition.prefix] : condition.prefix));
  const problems: string[] = [];
  for (const literal of literals) {
    if (typeof literal !== 'string') continue;
    const misplaced = paymentValueOnRequestFact(tool, fact, literal);
    if (misplaced !== undefined) {
      problems.push(`${JSON.stringify(literal)} is a payment's, not the request's: ${misplaced}`);
      continue;
    }
    const spelled = canonical(literal);
    if (spelled !== literal) problems.push(`${JSON.stringify(literal)} is not how the ${fact} fact is spelled${spelled === undefined ? '' : `: write ${JSON.stringify(spelled)}`}`);
  }
  if (condition.glob !== undefined && tool === 'pay.fetch' && (fact === 'paymentScheme' || fact === 'paymentMethod')) {
    problems.push(`${fact} takes equals, in or notIn (${Object.values(fact === 'paymentScheme' ? PAYMENT_SCHEMES : PAYMENT_METHODS).join(', ')}), not a glob`);
  }
  if (condition.glob !== undefined && (fact === 'host' || fact === 'scheme' || fact === 'method')) {
    for (const glob of typeof condition.glob === 'string' ? [condition.glob] : condition.glob) {
      const spelled = fact === 'method' ? glob.toUpperCase() : glob.toLowerCase();
      // eslint-disable-next-line no-control-regex
      if (spelled !== glob || !/^[\x00-\x7f]*$/.test(glob)) problems.push(`the glob ${JSON.stringify(glob)} is not how the ${fact} fact is spelled (${fact === 'method' ? 'upper' : 'lower'} case${fact === 'host' ? ', punycode' : ''})`);
    }
  }
  return problems;
}
