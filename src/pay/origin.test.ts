import { describe, expect, it } from 'vitest';
import { canonicalOrigin, configOrigin } from './origin.js';

describe('canonicalOrigin', () => {
  it.each([
    ['http://api.test:8080/x', 'http://api.test:8080'],
    ['http://API.Test.:8080/x?q#f', 'http://api.test:8080'],
    ['https://api.test.:443/', 'https://api.test'],
    ['http://api.test:80', 'http://api.test'],
    ['https://bücher.example./', 'https://xn--bcher-kva.example'],
    ['https://B%C3%BCcher.example/', 'https://xn--bcher-kva.example'],
    ['http://[::1]:8080/', 'http://[::1]:8080'],
    ['http://127.0.0.1./', 'http://127.0.0.1'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalOrigin(input)).toBe(expected);
  });
});

describe('configOrigin', () => {
  it('accepts an origin with or without a trailing slash, in any spelling', () => {
    expect(configOrigin('https://API.example.com./', 'alwaysAskOrigins')).toBe('https://api.example.com');
    expect(configOrigin('https://api.example.com:443', 'alwaysAskOrigins')).toBe('https://api.example.com');
  });

  it.each(['https://api.example.com/v1', 'https://api.example.com/?x=1', 'https://api.example.com/#f', 'https://user@api.example.com', 'not a url', 'mailto:x@y'])(
    'refuses %s with CONFIG_INVALID',
    (entry) => {
      expect(() => configOrigin(entry, 'alwaysAskOrigins')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    },
  );
});
