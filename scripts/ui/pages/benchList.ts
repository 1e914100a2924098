/** The benchmarks page (`/benchmarks`): every benchmark (LabKind = 'benchmark'), newest first, paged. */
import { rowStatus } from '../../commands/list.js';
import { LAB_STATUS } from '../../../common/searchAttributes.js';
import { escapeHtml, notice, page } from '../html.js';
import type { WorkflowPage } from '../workflowList.js';
import { listPager, shownTime } from './listPager.js';

export interface BenchListInput {
  list?: WorkflowPage;
  error?: string;
  temporalLink: (workflowId: string) => string | undefined;
}

export function benchListPage({ list, error, temporalLink }: BenchListInput): string {
  const body = ['<h2>Benchmarks</h2>', error ? notice('error', error) : '', list ? table(list, temporalLink) : '', list ? listPager(list, '/benchmarks', {}, ['benchmark', 'benchmarks']) : ''];
  return page({ title: 'Benchmarks', body: body.join('\n'), refreshSeconds: error ? undefined : 15 });
}

function table(list: WorkflowPage, temporalLink: BenchListInput['temporalLink']): string {
  if (!list.rows.length) return '<p class="muted">no benchmarks yet (lab bench starts one)</p>';
  const rows = list.rows.map(({ latest, firstStarted, executions }) => {
    const id = latest.workflowId;
    const link = temporalLink(id);
    // A benchmark sets LabStatus as it goes (running, completed, completed_with_failures); Temporal's status once it closed otherwise.
    const status = rowStatus(latest.status.name, latest.typedSearchAttributes.get(LAB_STATUS));
    return `<tr data-bench-id="${escapeHtml(id)}">
<td><a href="/benchmarks/${encodeURIComponent(id)}">${escapeHtml(id)}</a></td>
<td class="bench-status">${escapeHtml(status)}</td>
<td>${escapeHtml(shownTime(firstStarted))}</td>
<td class="num">${executions}</td>
<td>${link ? `<a class="temporal" href="${escapeHtml(link)}">history</a>` : ''}</td>
</tr>`;
  });
  return `<table class="benchmarks">
<thead><tr><th>benchmark</th><th>status</th><th>started (UTC)</th><th class="num" title="retries, resumes and continue-as-new each add one">executions</th><th>Temporal UI</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}
