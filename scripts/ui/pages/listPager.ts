/** The "← newer · N things, page i of n · older →" line under a console list. */
import { escapeHtml, queryString } from '../html.js';

export interface PagedList {
  total: number;
  truncated: boolean;
  page: number;
  pages: number;
}

/** `params` are the list's filters, kept on every page's link. */
export function listPager(list: PagedList, path: string, params: Record<string, string | undefined>, noun: [string, string]): string {
  const at = (p: number) => `${path}${queryString({ ...params, page: p > 1 ? p : undefined })}`;
  const count = `${list.total}${list.truncated ? '+' : ''} ${list.total === 1 ? noun[0] : noun[1]}, page ${list.page} of ${list.pages}`;
  const prev = list.page > 1 ? `<a rel="prev" href="${escapeHtml(at(list.page - 1))}">← newer</a>` : '';
  const next = list.page < list.pages ? `<a rel="next" href="${escapeHtml(at(list.page + 1))}">older →</a>` : '';
  return `<nav class="pages">${prev}<span class="muted">${count}</span>${next}</nav>`;
}

/** A start time as the runs list shows it (UTC, to the second). */
export function shownTime(at: Date | string): string {
  return (typeof at === 'string' ? at : at.toISOString()).replace('T', ' ').slice(0, 19);
}
