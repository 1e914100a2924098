/**
 * How a `lab` command is declared and its arguments checked: node's parseArgs splits the words,
 * then the command's own zod schema validates and types every option and positional in one place.
 * Any problem is one line and exit code 2, before anything connects or starts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { CliError } from './client.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface Command<S extends z.ZodType = z.ZodType> {
  summary: string;
  usage: string;
  options: OptionSpecs;
  /** Names of the positional arguments, in order; the schema decides which are required. */
  positionals: string[];
  /** Validates `{ ...options, ...positionals by name }` and returns the typed arguments. */
  schema: S;
  /** Resolves to the exit code (undefined means 0). */
  run(args: z.output<S>): Promise<number | void>;
}

export function defineCommand<S extends z.ZodType>(command: Command<S>): Command<S> {
  return command;
}

/** Parses and validates argv for `command`; throws CliError(exit 2) with one line on any problem. */
export function parseCommandArgs<S extends z.ZodType>(command: Command<S>, argv: string[]): z.output<S> {
  let parsed;
  try {
    parsed = parseArgs({ args: attachNegativeValues(argv, command.options), options: command.options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = firstLine((err as Error).message);
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new CliError(`${unknown ? `unknown option "${unknown[1]}" (see lab ${command.usage.split(' ')[1]} --help)` : message}\nusage: ${command.usage}`, 2);
  }
  if (parsed.positionals.length > command.positionals.length) {
    throw new CliError(`unexpected argument "${parsed.positionals[command.positionals.length]}"\nusage: ${command.usage}`, 2);
  }
  const raw: Record<string, unknown> = { ...parsed.values };
  command.positionals.forEach((name, i) => (raw[name] = parsed.positionals[i]));
  const checked = command.schema.safeParse(raw);
  if (!checked.success) {
    // Every field is built with flag()/required() below, whose messages name the option themselves.
    throw new CliError(`${checked.error.issues[0].message}\nusage: ${command.usage}`, 2);
  }
  return checked.data;
}

/**
 * `--budget-usd -1` would be read by parseArgs as an unknown option `-1` (and its error spans five
 * lines); a value that looks like a negative number is attached (`--budget-usd=-1`) so the schema
 * can say what is wrong with it.
 */
function attachNegativeValues(argv: string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    const name = word.startsWith('--') && !word.includes('=') ? word.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${word}=${next}`);
      i++;
    } else out.push(word);
  }
  return out;
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/**
 * A string option checked by `parse`, which throws an Error whose message is shown as it is.
 * Absent stays undefined (or `fallback`).
 */
export function flag<T>(parse: (value: string) => T) {
  return z
    .string()
    .optional()
    .transform((value, ctx): T | undefined => {
      if (value === undefined) return undefined;
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

/** A positional or option that must be present, checked by `parse`. */
export function required<T>(missing: string, parse: (value: string) => T) {
  return z
    .string({ error: missing })
    .transform((value, ctx): T => {
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

export const booleanFlag = z.boolean().optional().transform((v) => v ?? false);

/** A repeatable option (`--judge a --judge b`), each value checked by `parse`; a value given twice is refused. */
export function repeatedFlag<T>(option: string, parse: (value: string) => T, whenAbsent: string[] = []) {
  return z
    .array(z.string())
    .optional()
    .transform((values, ctx): T[] => {
      const parsed: T[] = [];
      for (const value of values ?? whenAbsent) {
        try {
          parsed.push(parse(value));
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }
      const twice = parsed.find((p, i) => parsed.indexOf(p) !== i);
      if (twice !== undefined) ctx.addIssue({ code: 'custom', message: `${option} ${String(twice)} is given twice` });
      return parsed;
    });
}
