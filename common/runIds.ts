/**
 * Run ids become folder names in the artifact store, so they are plain names: no path separators,
 * no "..", nothing a shell or file system treats specially. Pure: workflows and activities use it.
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export const RUN_ID_RULE = "use 1-200 letters, digits, '.', '_' or '-', starting with a letter or digit, and no '..'";

export function isValidRunId(id: string): boolean {
  return RUN_ID_PATTERN.test(id) && !id.includes('..');
}
