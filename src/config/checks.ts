import type { ResolvedConfig } from '../config.js';

/** One problem of a configuration: where (`policy.allowTools.0`) and what, for `data.issues`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Tools that reach the network through `connectors.http` and can do nothing without it. */
const NEEDS_HTTP = ['pay.fetch', 'pay.preview'];

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Mistakes the schema alone lets through and that would otherwise fail quietly at run time;
 * each is an error because the setting can never do what it says:
 * - a domain entry with a scheme or a path matches no host (`https://api.github.com` is never a host name);
 * - `embedded` with a `connectionString`: one of the two databases would be ignored;
 * - `pay.fetch` / `pay.preview` allowed by exact name without `connectors.http`: every host is refused.
 */
export function crossFieldIssues(config: ResolvedConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const http = config.connectors.http;
  if (http !== undefined) {
    for (const key of ['allowedDomains', 'deniedDomains'] as const) {
      http[key].forEach((entry, i) => {
        const problem = domainProblem(entry);
        if (problem !== undefined) issues.push({ path: `connectors.http.${key}.${i}`, message: problem });
      });
    }
  }
  const postgres = config.connectors.postgres;
  if (postgres?.embedded === true && postgres.connectionString !== undefined) {
    issues.push({
      path: 'connectors.postgres.embedded',
      message: 'embedded (an in-process PGlite database) and connectionString (a server) exclude each other: remove one',
    });
  }
  if (http === undefined) {
    const lists: [string, readonly string[] | undefined][] = [
      ['policy.allowTools', config.policy.allowTools],
      ...Object.entries(config.policy.actors).map(([actor, rules]): [string, readonly string[] | undefined] => [`policy.actors.${actor}.allowTools`, rules.allowTools]),
    ];
    for (const [path, list] of lists) {
      list?.forEach((entry, i) => {
        if (NEEDS_HTTP.includes(entry)) {
          issues.push({ path: `${path}.${i}`, message: `${entry} is allowed but connectors.http is not configured, so it could reach no host: add connectors.http.allowedDomains` });
        }
      });
    }
  }
  return issues;
}

/** Why a domain entry can match no host, with the host name to write instead. */
function domainProblem(entry: string): string | undefined {
  if (SCHEME.test(entry)) {
    let host: string | undefined;
    try {
      host = new URL(entry).hostname;
    } catch {
      host = undefined;
    }
    return `${JSON.stringify(entry)} has a scheme; list host names only${host === undefined || host === '' ? '' : ` (write "${host}")`}`;
  }
  const cut = entry.search(/[/?#]/);
  if (cut >= 0) {
    const host = entry.slice(0, cut);
    return `${JSON.stringify(entry)} has a path; list host names only (paths are not matched)${host === '' ? '' : ` (write "${host}")`}`;
  }
  return undefined;
}
