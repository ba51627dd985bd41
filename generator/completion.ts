import type { Command } from 'commander';

/** Values an option takes, offered after it (the others complete as files or nothing). */
export interface CompletionValues {
  readonly [option: string]: readonly string[];
}

const words = (list: readonly string[]) => list.join(' ');

/**
 * A bash completion script for the CLI, made from its own commands and options (so it cannot
 * drift from them): commands first, then each command's options, the values of the options that
 * have a fixed set, folders after `--out` and `--compare`, named labs (labs/local/) after `--name`.
 * zsh loads it through bashcompinit.
 */
export function completionScript(program: Command, shell: 'bash' | 'zsh', values: CompletionValues): string {
  const commands = program.commands.filter((c) => c.name() !== 'help');
  const name = program.name();
  const fn = `_${name.replace(/[^a-zA-Z0-9]/g, '_')}`;
  const perCommand = commands.map(
    (c) => `    ${c.name()}) opts="${words(c.options.map((o) => o.long ?? o.short ?? '').filter(Boolean))} --help";;`,
  );
  const valueCases = Object.entries(values).map(
    ([option, list]) => `    ${option}) COMPREPLY=($(compgen -W "${words(list)}" -- "$cur")); return;;`,
  );
  const script = [
    `# ${name} completion (${shell}): eval "$(${name} completion ${shell})", or save it where your shell loads completions`,
    `${fn}() {`,
    '  local cur prev cmd opts',
    '  COMPREPLY=()',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  cmd="${COMP_WORDS[1]}"',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "${words(commands.map((c) => c.name()))} --help --version" -- "$cur")); return`,
    '  fi',
    '  case "$prev" in',
    ...valueCases,
    '    --out|--compare) COMPREPLY=($(compgen -d -- "$cur")); return;;',
    '    --name) COMPREPLY=($(compgen -W "$(ls labs/local 2>/dev/null)" -- "$cur")); return;;',
    '  esac',
    '  case "$cmd" in',
    ...perCommand,
    '    *) opts="";;',
    '  esac',
    '  COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
    '}',
    `complete -F ${fn} ${name}`,
  ];
  return `${shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}${script.join('\n')}\n`;
}
