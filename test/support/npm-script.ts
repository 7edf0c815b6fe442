import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface NpmScriptCommand {
  /** The `NAME=value` assignments in front of `node`. */
  env: Record<string, string>;
  /** What follows `node`: V8 flags, the tsx loader, the script. */
  nodeArgs: string[];
}

/**
 * `npm run <script>` from package.json (`NAME=value … node <args>`), to be spawned without npm's and sh's wrapper
 * processes: tests and the benchmark then run Herald with the runtime tuning users get (the allocator and V8 settings),
 * and the pid they hold is Herald's own.
 */
export function npmScriptCommand(script: string): NpmScriptCommand {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const line = scripts[script];
  if (line === undefined) throw new Error(`package.json has no script "${script}"`);
  const words = line.split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=\S*$/.test(words[0]!)) {
    const word = words.shift()!;
    const equals = word.indexOf('=');
    env[word.slice(0, equals)] = word.slice(equals + 1);
  }
  if (words.shift() !== 'node' || words.some((word) => /[;&|<>$`'"]/.test(word))) {
    throw new Error(`npm run ${script} is not a plain \`NAME=value … node …\` command: ${line}`);
  }
  return { env, nodeArgs: words };
}
