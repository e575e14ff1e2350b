import type { Command } from "commander";
import { UsageError } from "../errors.ts";

interface Spec {
  commands: Array<{ name: string; options: string[] }>;
  globals: string[];
  /** Global options followed by a value (`--home DIR`): the value is never the command. */
  globalsWithValue: string[];
}

function specOf(program: Command): Spec {
  const flags = (c: Command) => c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
  return {
    globals: [...flags(program), "--help"],
    globalsWithValue: program.options
      .filter((o) => o.required || o.optional)
      .flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)),
    commands: program.commands
      .filter((c) => c.name() !== "help")
      .map((c) => ({ name: c.name(), options: [...flags(c), "--help"] })),
  };
}

/** A completion script for `shell`, built from the registered commands and their options. */
export function completionScript(program: Command, shell: string): string {
  const spec = specOf(program);
  const names = spec.commands.map((c) => c.name).join(" ");
  if (shell === "bash") {
    const cases = spec.commands.map((c) => `    ${c.name}) opts="${c.options.join(" ")}" ;;`).join("\n");
    // A pattern that matches no word when no global option takes a value.
    const valued = spec.globalsWithValue.join("|") || "--moss-none";
    return `# moss completion for bash: eval "$(moss completion bash)"
_moss() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" w opts i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      ${valued}) ((i++)) ;;
      -*) ;;
      *) cmd="$w"; break ;;
    esac
  done
  if [[ -z "$cmd" && $COMP_CWORD -gt 1 ]]; then
    case "\${COMP_WORDS[COMP_CWORD-1]}" in ${valued}) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  fi
  case "$cmd" in
${cases}
    *) opts="${names} ${spec.globals.join(" ")}" ;;
  esac
  if [[ -z "$cmd" || "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o default -F _moss moss
`;
  }
  if (shell === "zsh") {
    const cases = spec.commands
      .map((c) => `    ${c.name}) _arguments '*: :_files' ${c.options.map((o) => `'${o}[]'`).join(" ")} ;;`)
      .join("\n");
    return `#compdef moss
# moss completion for zsh: eval "$(moss completion zsh)", or save as _moss on your $fpath
_moss() {
  local -a commands
  commands=(${spec.commands.map((c) => `'${c.name}'`).join(" ")})
  if (( CURRENT == 2 )); then _describe 'command' commands; return; fi
  case "\${words[2]}" in
${cases}
  esac
}
if [[ "$funcstack[1]" == "_moss" ]]; then _moss "$@"; else compdef _moss moss; fi
`;
  }
  if (shell === "fish") {
    const lines = [`# moss completion for fish: moss completion fish > ~/.config/fish/completions/moss.fish`];
    lines.push(`complete -c moss -n "__fish_use_subcommand" -a "${names}"`);
    for (const c of spec.commands) {
      for (const o of c.options) {
        const flag = o.startsWith("--") ? `-l ${o.slice(2)}` : `-s ${o.slice(1)}`;
        lines.push(`complete -c moss -n "__fish_seen_subcommand_from ${c.name}" ${flag}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
  throw new UsageError(`moss completion: the shell must be bash, zsh or fish, got "${shell}"`);
}

export function registerCompletion(program: Command): void {
  program
    .command("completion")
    .description("print a shell completion script (bash, zsh or fish)")
    .argument("<shell>", "bash, zsh or fish")
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell));
    });
}
