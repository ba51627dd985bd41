/**
 * The fixes the project's messages name are `make` commands (`Try: make lab PATTERN=3`), since
 * most users come through make. A user who ran the CLI itself gets them in the CLI's own words
 * (`Try: carbon-labs up --pattern 3`): the Makefile marks its calls with {@link VIA_MAKE}.
 */
export const VIA_MAKE = 'CARBON_LABS_VIA_MAKE';

/** Make targets that are one CLI command each; others (`make swarm`, `make engine`) have none. */
const COMMANDS: Readonly<Record<string, string>> = {
  lab: 'up',
  down: 'down',
  status: 'status',
  conformance: 'conformance',
  generate: 'generate',
  logs: 'logs',
  images: 'images',
  stop: 'stop',
  start: 'start',
  list: 'list',
};
/** Make variables as the CLI spells them; one not listed here is `--<lower case>`. */
const OPTIONS: Readonly<Record<string, string>> = { BOOT_S: 'boot-seconds' };
/** Make variables that are a bare flag of the CLI (`PUBLISH=1` is `--publish`). */
const FLAGS: ReadonlySet<string> = new Set(['PUBLISH']);

const VARS = '((?: [A-Z][A-Z_]*=[^\\s,;()]+)*)';

/** ` PATTERN=3 PUBLISH=1` as `--pattern 3 --publish`. */
function options(vars: string): string[] {
  return vars
    .trim()
    .split(' ')
    .filter(Boolean)
    .map((pair) => {
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const option = `--${OPTIONS[name] ?? name.toLowerCase().replace(/_/g, '-')}`;
      return FLAGS.has(name) ? option : `${option} ${value}`;
    });
}

/**
 * `text` with every `make <target> VAR=value …` that is a CLI command in the CLI's words.
 * `make lab` is `up`, except in the fix of an error of `generate` (`asked`): a user who asked only
 * to generate is not told to start containers.
 */
export function inCliWords(text: string, asked?: string): string {
  let out = text.replace(
    new RegExp(`\\bmake (lab|down|status|conformance|generate|logs|images|stop|start|list)\\b${VARS}`, 'g'),
    (_, target: string, vars: string) => {
      const command = target === 'lab' && asked === 'generate' ? 'generate' : COMMANDS[target];
      return ['carbon-labs', command, ...options(vars)].join(' ');
    },
  );
  // `make lab PATTERN=2, or PATTERN=3`: the alternative is the same command with other variables.
  const alternative = new RegExp(`(carbon-labs (\\w+)(?: --?[\\w-]+(?: [^\\s,;()-][^\\s,;()]*)?)*), or${VARS}(?=[,;)]|$| for)`);
  for (let m = alternative.exec(out); m && m[3]; m = alternative.exec(out)) {
    out = out.replace(m[0], `${m[1]}, or ${['carbon-labs', m[2], ...options(m[3])].join(' ')}`);
  }
  return out;
}

/** The words for this run: make's when make ran it, else the CLI's. */
export const speak = (text: string, asked?: string, env: NodeJS.ProcessEnv = process.env): string =>
  env[VIA_MAKE] ? text : inCliWords(text, asked);
