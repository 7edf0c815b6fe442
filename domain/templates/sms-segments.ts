/**
 * How an SMS body travels: GSM-7 (3GPP TS 23.038 default alphabet, 7 bits a character, the extension table's
 * characters taking two) when every character is in it, UCS-2 (16 bits a code unit) otherwise. One message holds 160
 * GSM-7 septets or 70 UCS-2 units; a longer one is concatenated and each part loses room to its header (153 / 67).
 * A part never splits an escape pair or a surrogate pair, as handsets and carriers do not.
 */

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** Sent as ESC + a character: two septets each. */
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  /** Characters as a reader counts them (code points). */
  characters: number;
  /** Septets (GSM-7) or 16-bit code units (UCS-2) on the air. */
  units: number;
  segments: number;
  /** Room per part: 160/70 for a single message, 153/67 when concatenated. */
  perSegment: number;
  /** The characters that forced UCS-2, each once (empty for GSM-7): replacing them halves the cost. */
  nonGsmCharacters: string[];
}

export function smsSegments(body: string): SmsSegmentInfo {
  const characters = [...body];
  const nonGsm = [...new Set(characters.filter((c) => !BASIC.has(c) && !EXTENSION.has(c)))];
  const encoding: SmsEncoding = nonGsm.length === 0 ? 'GSM-7' : 'UCS-2';
  // Indivisible units per character: an escape pair is 2 septets, an astral character 2 UTF-16 units.
  const sizes = characters.map((c) => (encoding === 'GSM-7' ? (EXTENSION.has(c) ? 2 : 1) : c.length));
  const units = sizes.reduce((sum, size) => sum + size, 0);
  const single = encoding === 'GSM-7' ? 160 : 70;
  const part = encoding === 'GSM-7' ? 153 : 67;
  if (units <= single) {
    return {
      encoding,
      characters: characters.length,
      units,
      segments: units === 0 ? 0 : 1,
      perSegment: single,
      nonGsmCharacters: nonGsm,
    };
  }
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > part) {
      segments++;
      used = 0;
    }
    used += size;
  }
  return { encoding, characters: characters.length, units, segments, perSegment: part, nonGsmCharacters: nonGsm };
}
