/**
 * Twilio error codes that say the number itself cannot receive SMS (invalid, a landline, not a mobile number): a send
 * that gets one fails for good (twilio.provider.ts), and a status callback that reports one flags the user's number
 * (twilio.webhook.ts).
 */
export const DEAD_NUMBER_CODES = [
  21211, // invalid 'To' number
  21407, // number type does not support SMS
  21612, // 'To' number not currently reachable via SMS
  21614, // 'To' number is not a valid mobile number
] as const;
