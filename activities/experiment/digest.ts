/**
 * Shortened inputs for the experiment agent's prompt. A small model's context holds the brief, the
 * plan and the steps so far only if the plan is short: each markdown section keeps its heading and
 * its opening sentences, in proportion, rather than the first N characters of the whole.
 */

/** The provenance line each stage output begins with says nothing the agent needs. */
const PROVENANCE_LINE = /^> Written by model .*\n+/;

export function digest(text: string, maxChars: number): string {
  const body = text.replace(PROVENANCE_LINE, '').trim();
  if (body.length <= maxChars) return body;
  const sections = splitSections(body);
  const share = Math.max(80, Math.floor(maxChars / sections.length));
  const kept: string[] = [];
  let used = 0;
  for (const s of sections) {
    if (used >= maxChars) break;
    const room = Math.min(share, maxChars - used);
    const part = s.heading ? `${s.heading}\n${opening(s.body, room - s.heading.length - 1)}` : opening(s.body, room);
    kept.push(part.trimEnd());
    used += part.length;
  }
  return `${kept.join('\n\n')}\n…(shortened to ${maxChars} characters)`;
}

function splitSections(text: string): Array<{ heading?: string; body: string }> {
  const sections: Array<{ heading?: string; body: string }> = [];
  let current: { heading?: string; body: string } = { body: '' };
  for (const line of text.split('\n')) {
    if (/^#{1,6}\s/.test(line)) {
      if (current.heading || current.body.trim()) sections.push(current);
      current = { heading: line.trim(), body: '' };
    } else {
      current.body += `${line}\n`;
    }
  }
  if (current.heading || current.body.trim()) sections.push(current);
  return sections;
}

/** The start of a section's text, cut at the last sentence end that fits (else at a word). */
function opening(body: string, room: number): string {
  const text = body.trim().replace(/\n{3,}/g, '\n\n');
  if (room <= 0) return '';
  if (text.length <= room) return text;
  const cut = text.slice(0, room);
  const sentence = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('.\n'));
  if (sentence > room / 3) return cut.slice(0, sentence + 1);
  const word = cut.lastIndexOf(' ');
  return `${cut.slice(0, word > 0 ? word : room)}…`;
}
