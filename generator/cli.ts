#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from './paths';
import { ChecksFailed, LabError } from './errors';
import { speak } from './hints';
import { registerGenerate } from './cli/generate';
import { registerUp } from './cli/up';
import { registerDown } from './cli/down';
import { registerStop } from './cli/stop';
import { registerStart } from './cli/start';
import { registerExport } from './cli/export';
import { registerStatus } from './cli/status';
import { registerList } from './cli/list';
import { registerLogs } from './cli/logs';
import { registerExec } from './cli/exec';
import { registerConformance } from './cli/conformance';
import { registerResults } from './cli/results';
import { registerImages } from './cli/images';
import { registerReservePorts } from './cli/reserve-ports';
import { registerCompletion } from './cli/completion';

/** The command the user named: an error's fix names it again (hints in the CLI's words). */
let askedCommand: string | undefined;

/** The commands, in the order `--help` lists them: one file each under cli/. */
const COMMANDS: readonly ((program: Command) => void)[] = [
  registerGenerate,
  registerUp,
  registerDown,
  registerStop,
  registerStart,
  registerExport,
  registerStatus,
  registerList,
  registerLogs,
  registerExec,
  registerConformance,
  registerResults,
  registerImages,
  registerReservePorts,
  registerCompletion,
];

/** The CLI; `asked`: the command the user named, for the hint of commander's own errors. */
export function cli(asked?: string): Command {
  const program = new Command('carbon-labs')
    .description('Docker Compose labs and a conformance harness for WSO2 API Manager worker/manager clusters')
    .version(VERSION, '--version', 'print the carbon-labs version')
    .showSuggestionAfterError()
    .allowExcessArguments(false)
    // A command's options come before its arguments, so `exec manager-1 ls -la` hands -la to ls.
    .enablePositionalOptions()
    .exitOverride()
    // Commander's own errors in the project's one-line style, with where to look (kind and compose
    // answer a bad flag with the command's usage; one line and the way to it is the house rule).
    .configureOutput({ outputError: (text, write) => write(`${commanderLine(text, asked)}\n`) });

  for (const register of COMMANDS) register(program);
  return program;
}

/** `error: unknown option '--prodct'\n(Did you mean --product?)` as `carbon-labs: unknown option '--prodct' (did you mean --product?). Try: carbon-labs --help`. */
export function commanderLine(text: string, command?: string): string {
  const [first, ...rest] = text
    .trim()
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const suggestion = rest.find((l) => /^\(Did you mean/.test(l));
  return `carbon-labs: ${first}${suggestion ? ` (${suggestion.slice(1, -1).replace(/^Did/, 'did')})` : ''}. Try: carbon-labs ${command ? `${command} ` : ''}--help`;
}

/**
 * Exit codes: 0 ok; 1 checks failed (conformance) or a lab that is not healthy (status);
 * 2 a usage or environment error. Every user error is one line on stderr, never a stack trace.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    // No command at all: the help, on stdout, as kind and docker compose answer it.
    if (!argv.length) {
      process.stdout.write(cli().helpInformation());
      return 0;
    }
    const names = cli().commands.map((c) => c.name());
    const asked = argv.find((a) => names.includes(a));
    askedCommand = asked;
    await cli(asked).parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      return 2; // commander already printed the message and the suggestion
    }
    if (err instanceof LabError) {
      process.stderr.write(`carbon-labs: ${speak(err.message, askedCommand)}\n`);
      return err instanceof ChecksFailed ? 1 : 2;
    }
    const system = err as NodeJS.ErrnoException;
    if (system.code && system.path) {
      process.stderr.write(
        `carbon-labs: cannot use ${system.path} (${system.code}: ${system.message.split(',')[0].replace(`${system.code}: `, '')}). Try: a folder you can write, with --out DIR\n`,
      );
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  // Output piped into a reader that stopped (`| head`): done, not a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    else throw err;
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
