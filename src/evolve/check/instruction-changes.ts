/**
 * Class 8 of the threat model: text a candidate plants for a model to read later. Prompt `.md`
 * files under agent-src are instructions to the executor, so a change to them is shown to the
 * user as an instruction change; lines that address a model ("ignore previous instructions",
 * "note to the patcher:", "dump the environment") are flagged wherever they are added. Best
 * effort: a flag is for the user's eyes; only without a person to read it (`--yes`) does the
 * scope check reject the candidate instead.
 */

/** Text the agent's model reads as instructions: `.md`/`.txt` files, and anything under a prompts folder. */
export const isInstructionFile = (file: string) =>
  file.startsWith("agent-src/") && (/\.(md|txt|markdown)$/i.test(file) || /\/prompts?\//.test(file));

const ADDRESSED_TO_A_MODEL =
  /ignore (all |any |the )?(previous|prior|above|earlier|preceding|system)|disregard (all |any |the )?(previous|prior|above|earlier|instructions)|(note to|notes? for|dear|attention|hey|message to|instructions? for),? (the )?(patcher|reviewer|assistant|executor|model|llm|ai)( model)?\s*[:,!]|\bpatcher model\b|override (the |your )?(system )?(prompt|instructions)|(?<!\b(?:never|not|n't|nor|avoid|without|no)\s)\b(dump|print|show|list|send|upload|exfiltrate|echo|cat)\b[^\n]{0,24}\b(env|environment|environ|secrets?|api[_ -]?keys?|credentials)\b|you are now|new instructions|developer mode|jailbreak|<\/?(system|instructions?|assistant)>|do not (tell|mention|reveal|show) (this to )?(the )?user|\bprintenv\b|\/proc\/[\w/]*environ|[\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f]|\x1b/i;

/** Instruction files changed by the diff, each with its added and removed line counts. */
export function instructionChanges(diff: string): string[] {
  const out: string[] = [];
  for (const section of diff.split(/^diff --git /m).slice(1)) {
    const file = /^a\/(\S+)/.exec(section)?.[1];
    if (!file || !isInstructionFile(file)) continue;
    const lines = section.split("\n");
    const added = lines.filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
    const removed = lines.filter((l) => l.startsWith("-") && !l.startsWith("---")).length;
    out.push(`${file} (+${added} -${removed})`);
  }
  return out;
}

/** Added lines of the diff that read as addressed to a model, with their file. */
export function injectionFlags(diff: string): string[] {
  const out: string[] = [];
  let file = "";
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ")) file = line.replace(/^\+\+\+ (b\/)?/, "");
    else if (line.startsWith("+") && ADDRESSED_TO_A_MODEL.test(line.slice(1)))
      out.push(`${file}: text addressed to a model: ${JSON.stringify(line.slice(1).trim().slice(0, 120))}`);
  }
  return out.slice(0, 20);
}
