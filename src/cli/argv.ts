/** A look at the raw arguments before commander loads: which command, and the vault directory. */

/** Global options that take a value (the word after them is not the command). */
const VALUE_OPTIONS = new Set(['--dir', '--backend', '--passphrase-fd']);

/** The command word in the arguments after the program name, if any. */
export function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** The value of an option (`--dir x` or `--dir=x`) anywhere before `--`; the last one wins. */
export function optionValue(args: readonly string[], option: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === option) value = args[++i];
    else if (a.startsWith(`${option}=`)) value = a.slice(option.length + 1);
  }
  return value;
}
