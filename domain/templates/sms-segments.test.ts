import { smsSegments } from './sms-segments';

describe('SMS encoding and segments', () => {
  it('plain Latin text is GSM-7: 160 characters fit one message, 161 need two parts of at most 153', () => {
    expect(smsSegments('Your code is 123456')).toMatchObject({
      encoding: 'GSM-7',
      units: 19,
      segments: 1,
      perSegment: 160,
    });
    expect(smsSegments('a'.repeat(160))).toMatchObject({ segments: 1, perSegment: 160 });
    expect(smsSegments('a'.repeat(161))).toMatchObject({ segments: 2, perSegment: 153 });
    expect(smsSegments('a'.repeat(306))).toMatchObject({ segments: 2 });
    expect(smsSegments('a'.repeat(307))).toMatchObject({ segments: 3 });
  });

  it('extension-table characters (€ [ ] { } ~ ^ | \\) stay GSM-7 but take two septets, never split across parts', () => {
    expect(smsSegments('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', characters: 80, units: 160, segments: 1 });
    expect(smsSegments('{x}')).toMatchObject({ encoding: 'GSM-7', units: 5 });
    // 306 septets would be two parts, but the escape pair at septets 153–154 moves whole into the second part.
    const body = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
    expect(smsSegments(body)).toMatchObject({ units: 306, segments: 3 });
  });

  it('Korean is UCS-2: 70 characters fit one message, 71 need two parts of at most 67', () => {
    expect(smsSegments('안녕하세요, 주문하신 상품이 발송되었습니다.')).toMatchObject({
      encoding: 'UCS-2',
      characters: 24,
      units: 24,
      segments: 1,
      perSegment: 70,
    });
    expect(smsSegments('가'.repeat(70))).toMatchObject({ segments: 1 });
    expect(smsSegments('가'.repeat(71))).toMatchObject({ segments: 2, perSegment: 67 });
    expect(smsSegments('가'.repeat(134))).toMatchObject({ segments: 2 });
    expect(smsSegments('가'.repeat(135))).toMatchObject({ segments: 3 });
  });

  it('one character outside GSM-7 switches the whole message to UCS-2 and is named; emoji take two units', () => {
    const info = smsSegments('It’s here');
    expect(info).toMatchObject({ encoding: 'UCS-2', units: 9, segments: 1 });
    expect(info.nonGsmCharacters).toEqual(['’']);
    expect(smsSegments('Party 🎉')).toMatchObject({ encoding: 'UCS-2', characters: 7, units: 8 });
    // A surrogate pair is not split: 66 units + an emoji = 68 > 67, so the emoji opens the second part.
    expect(smsSegments(`${'가'.repeat(66)}🎉${'가'.repeat(10)}`)).toMatchObject({ units: 78, segments: 2 });
  });

  it('GSM-7 covers its accented letters and Greek capitals', () => {
    expect(smsSegments('Ça coûte 5 £ – no').encoding).toBe('UCS-2'); // û and – are not GSM-7
    expect(smsSegments('Ça côute').encoding).toBe('UCS-2');
    expect(smsSegments('Ärger über Öl, ΔΩ ¿¡ à é è ù ì ò Ñ').encoding).toBe('GSM-7');
  });
});
