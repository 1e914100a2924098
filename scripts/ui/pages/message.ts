/** Pages that only say one thing: an unknown run, a bad request, Temporal out of reach, an id that is no research run. */
import { escapeHtml, notice, page } from '../html.js';

export function messagePage(title: string, text: string): string {
  return page({ title, body: `<h2>${escapeHtml(title)}</h2>\n${notice('error', text)}\n<p><a href="/">all runs</a></p>` });
}

/** A lab workflow that is not a research run, described as `lab status` describes it. */
export function otherWorkflowPage(id: string, text: string): string {
  return page({ title: id, body: `<h2><code>${escapeHtml(id)}</code></h2>\n<pre class="doc other-workflow">${escapeHtml(text)}</pre>\n<p><a href="/">all runs</a></p>` });
}
