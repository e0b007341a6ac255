import { describe, expect, it } from 'vitest';
import { compileInjections } from './inject.js';

const TOKEN = { authorization: 'Bearer t' };

function injected(config: Record<string, Record<string, string>>, url: string): Record<string, string> | undefined {
  const parsed = new URL(url);
  const hostname = parsed.hostname.endsWith('.') ? parsed.hostname.slice(0, -1) : parsed.hostname;
  return compileInjections(config, () => undefined)(parsed, hostname);
}

describe('injectHeaders keys', () => {
  it('a bare host pattern means https on port 443 only', () => {
    expect(injected({ 'api.test': TOKEN }, 'https://api.test/x')).toEqual(TOKEN);
    expect(injected({ 'api.test': TOKEN }, 'https://API.test.:443/x')).toEqual(TOKEN);
    expect(injected({ 'api.test': TOKEN }, 'http://api.test/x')).toBeUndefined();
    expect(injected({ 'api.test': TOKEN }, 'http://api.test:443/x')).toBeUndefined();
    expect(injected({ 'api.test': TOKEN }, 'https://api.test:8443/x')).toBeUndefined();
    expect(injected({ '*.api.test': TOKEN }, 'https://v2.api.test/')).toEqual(TOKEN);
    expect(injected({ '*.api.test': TOKEN }, 'http://v2.api.test/')).toBeUndefined();
  });

  it('an origin means exactly its scheme, host and port (default port of the scheme when omitted)', () => {
    const config = { 'https://api.test:8443': TOKEN, 'HTTP://Local.test:8080/': { 'x-dev': '1' }, 'https://[::1]': { 'x-v6': '1' } };
    expect(injected(config, 'https://api.test:8443/a')).toEqual(TOKEN);
    expect(injected(config, 'https://api.test/a')).toBeUndefined();
    expect(injected(config, 'http://api.test:8443/a')).toBeUndefined();
    expect(injected(config, 'https://api.test:8444/a')).toBeUndefined();
    expect(injected(config, 'http://local.test:8080/')).toEqual({ 'x-dev': '1' });
    expect(injected(config, 'https://local.test:8080/')).toBeUndefined();
    expect(injected(config, 'https://[::1]/')).toEqual({ 'x-v6': '1' });
    expect(injected({ 'https://api.test': TOKEN }, 'https://api.test:443/')).toEqual(TOKEN);
    expect(injected({ 'http://api.test': TOKEN }, 'http://api.test/')).toEqual(TOKEN);
    expect(injected({ 'http://api.test': TOKEN }, 'https://api.test/')).toBeUndefined();
    expect(injected({ 'https://*.api.test:8443': TOKEN }, 'https://v2.api.test:8443/')).toEqual(TOKEN);
    expect(injected({ 'https://*.api.test:8443': TOKEN }, 'https://api.test:8443/')).toBeUndefined();
    expect(injected({ 'https://api%2Etest:8443': TOKEN }, 'https://api.test:8443/')).toEqual(TOKEN);
  });

  it.each(['api.test:8443', 'api.test/v1', 'https://api.test/v1', 'https://api.test?x=1', 'https://user@api.test', 'ftp://api.test', 'https://api.test:0', 'https://api.test:70000', 'https://', 'https://a b.test', 'https://*evil.test'])(
    'refuses the key %s with CONFIG_INVALID',
    (key) => {
      expect(() => compileInjections({ [key]: TOKEN }, () => undefined)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    },
  );

  it('warns about every http origin, without the header values', () => {
    const warnings: string[] = [];
    compileInjections({ 'http://local.test:8080': { authorization: 'Bearer secret-value' }, 'api.test': TOKEN, 'https://api.test:8443': TOKEN }, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/http:\/\/local\.test:8080.*plain http/);
    expect(warnings.join('\n')).not.toContain('secret-value');
  });

  it('tells the host once per key when a matching host is reached on another scheme or port, headers withheld', () => {
    const warnings: string[] = [];
    const injectedFor = compileInjections({ 'api.test': { authorization: 'Bearer secret-value' } }, (m) => warnings.push(m));
    expect(injectedFor(new URL('http://api.test:8080/path?q=secret'), 'api.test')).toBeUndefined();
    expect(injectedFor(new URL('http://api.test:9090/'), 'api.test')).toBeUndefined();
    expect(injectedFor(new URL('https://other.test/'), 'other.test')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('http://api.test:8080');
    expect(warnings[0]).not.toMatch(/secret|path/);
    const quiet: string[] = [];
    const both = compileInjections({ 'api.test': TOKEN, 'http://api.test:8080': { 'x-dev': '1' } }, (m) => quiet.push(m));
    expect(both(new URL('http://api.test:8080/'), 'api.test')).toEqual({ 'x-dev': '1' });
    expect(quiet.filter((m) => m.includes('were not sent'))).toEqual([]);
  });
});
