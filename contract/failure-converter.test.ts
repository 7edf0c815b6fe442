import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { failureConverter, STACK_TRACES_OFF } from './failure-converter';

describe('failureConverter', () => {
  it('moves a failure message and stack into an encoded payload, for the codec to encrypt', () => {
    const failure = failureConverter.errorToFailure(
      ApplicationFailure.create({ message: 'Twilio refused +14155550123' }),
      defaultPayloadConverter,
    );
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    expect(JSON.stringify(failure)).not.toContain('+14155550123');
    const back = failureConverter.failureToError(failure, defaultPayloadConverter);
    expect(back.message).toBe('Twilio refused +14155550123');
  });

  it('leaves the stack-traces-off answer readable, with the setting that turns them on', () => {
    const failure = failureConverter.errorToFailure(new Error(STACK_TRACES_OFF), defaultPayloadConverter);
    expect(failure.message).toBe(
      `${STACK_TRACES_OFF}: Herald's workers run without them unless HERALD_WORKFLOW_STACK_TRACES=true`,
    );
    expect(failure.encodedAttributes).toBeFalsy();
  });
});
