import { npmScriptCommand } from './npm-script';

// Tests and the benchmark spawn Herald from these command lines; users get them from `npm start`, `npm run worker`
// and the image's CMD. The allocator and V8 settings are part of what is measured, so they are read, not copied.
describe('npmScriptCommand', () => {
  it.each(['start', 'api', 'worker'])('reads `npm run %s` as environment and node arguments', (script) => {
    const command = npmScriptCommand(script);
    expect(command.env).toEqual({
      MALLOC_ARENA_MAX: '2',
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_TRIM_THRESHOLD_: '131072',
    });
    expect(command.nodeArgs).toEqual([
      '--heap-growing-percent=25',
      '--max-semi-space-size=4',
      '--require',
      'tsx/cjs',
      '--require',
      './scripts/preload.ts',
      `scripts/${script}.ts`,
    ]);
  });

  it('refuses a script that is not a plain node command line', () => {
    expect(() => npmScriptCommand('lint')).toThrow(/not a plain/);
    expect(() => npmScriptCommand('no-such-script')).toThrow(/no script/);
  });
});
