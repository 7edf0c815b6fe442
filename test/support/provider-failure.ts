import { ProviderError } from '../../activities/providers/provider.types';

/** The ProviderError a provider call rejected with; fails the test if the call succeeded or threw something else. */
export async function providerFailure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => new Error('expected the provider call to fail, but it succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}
