// Runs the graphql-http server audit (GraphQL over HTTP spec) against a live gateway.
// Usage: node tests/audit/audit.mjs http://127.0.0.1:8000/graphql
// Prints one line per audit and a JSON summary last; exits 1 when any audit reports an error.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  const line = `${result.status.toUpperCase().padEnd(6)} ${result.id} ${result.name}`;
  if (result.status === 'ok') {
    console.log(line);
  } else {
    let body = '';
    try {
      body = (await result.response.text()).slice(0, 200);
    } catch {
      body = '<body unavailable>';
    }
    console.log(`${line}\n       reason: ${result.reason}\n       status ${result.response.status}: ${body}`);
  }
}
console.log(JSON.stringify({ total: results.length, ...counts }));
process.exit(counts.error > 0 ? 1 : 0);
