import { jsonSchema } from './document';
import { ROUTES } from './routes';

let page: string | undefined;

/** Built once: the routes and schemas are fixed for the life of the process. */
export function docsPage(): string {
  return (page ??= buildDocsPage());
}

/** A self-contained page (no CDN): the endpoints with their roles, and the request schemas. */
function buildDocsPage(): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const rows = ROUTES.map(
    (r) =>
      `<tr><td><code>${r.method.toUpperCase()}</code></td><td><code>${esc(r.path)}</code></td><td>${r.roles === 'public' ? 'public' : esc(r.roles.join(', '))}</td><td>${esc(r.summary)}${
        r.rules?.length ? `<ul>${r.rules.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''
      }${r.body ? `<details><summary>body schema</summary><pre>${esc(JSON.stringify(jsonSchema(r.body, 'input'), null, 2))}</pre></details>` : ''}</td></tr>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Postal dossiers API</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:1100px}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:30rem}</style></head>
<body><h1>Postal dossiers API v1</h1><p>JSON over HTTP; errors are <code>application/problem+json</code>. Authenticate with <code>Authorization: Bearer &lt;JWT&gt;</code> (HS256; claims sub, role, agencyId, courierId, exp). Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Roles</th><th>What it does</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}
