import { describe, expect, it } from 'vitest';
import { visibleReason } from './chain.js';

describe('visibleReason', () => {
  it('spells out C0 controls and DEL in an all-ASCII reason (ESC, CR, LF would drive a terminal or fake a line)', () => {
    expect(visibleReason('Unrecognized key: "k\x1b[2J\nFAKE\r\x7f"')).toBe('Unrecognized key: "k\\u001b[2J\\u000aFAKE\\u000d\\u007f"');
  });

  it('keeps a plain reason as it is, and spells out separators and bidi overrides in a non-ASCII one', () => {
    expect(visibleReason('policy: tool fs.readFile is not allowed')).toBe('policy: tool fs.readFile is not allowed');
    expect(visibleReason('a\u2028b\u202ec é')).toBe('a\\u2028b\\u202ec é');
  });
});
