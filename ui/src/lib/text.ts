// Text from documents, file names and the model may hold control characters (terminal escapes,
// bells, bidirectional overrides that disguise a file name). Shown raw they are invisible or
// misleading, so every such string is displayed through `visible`: the rule of the CLI's
// `terminal_safe` (src/bin/folio/terminal.rs).

const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** `text` with control and bidi-override characters replaced by U+FFFD (line breaks and tabs kept). */
export function visible(text: string): string {
  return text.replace(UNSAFE, "\uFFFD");
}

/** The last component of a path, for display. */
export function fileName(path: string): string {
  return visible(path.split(/[\\/]/).pop() ?? path);
}
