/** Styles of the site nav bar and the benchmark, competition and environment pages (part of the page's one inline style). */
export const BENCH_STYLE = `
nav.site a { margin-right: .9rem; color: #1a5fb4; }
table.summary { width: auto; }
table.summary th { font-weight: normal; color: #555; padding-right: 1.5rem; }
progress.bench { width: 22rem; height: 1rem; vertical-align: middle; }
form.retry { display: inline; margin: 0; }
.retry-box { border: 2px solid #ef9a9a; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
.table-wrap { max-width: 100%; overflow-x: auto; margin: .5rem 0 1.25rem; }
figure.chart { margin: .5rem 0; overflow-x: auto; }
figure.chart img { max-width: 100%; height: auto; }
td.reason { min-width: 18em; max-width: 36em; overflow-wrap: break-word; }
`;
