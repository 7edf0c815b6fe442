import { redact } from './redact';

describe('redact', () => {
  it('blanks out e-mail addresses, phone numbers and the given values, and keeps the rest readable', () => {
    const text = 'bounce 550 5.1.1 <ada@example.com>: token hk_secret_value, call +1 415 555 0100';
    const out = redact(text, { values: ['hk_secret_value'] });
    expect(out).toBe('bounce 550 5.1.1 <[email]>: token [redacted], call [number]');
  });

  it('cuts to the given length after redacting', () => {
    expect(redact('+14155550100 and more', { max: 8 })).toBe('[number]');
  });

  it('ignores absent values', () => {
    expect(redact('device abc', { values: [undefined, ''] })).toBe('device abc');
  });
});
