/** A page that only says one thing: an unknown run, a bad request, Temporal out of reach. */
import { escapeHtml, notice, page } from '../html.js';

export function messagePage(title: string, text: string): string {
  return page({ title, body: `<h2>${escapeHtml(title)}</h2>\n${notice('error', text)}\n<p><a href="/">all runs</a></p>` });
}
