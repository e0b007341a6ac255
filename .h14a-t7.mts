import { loadParser, validateSqlSync } from './src/postgres/index.js';
await loadParser();
const refSql = "SELECT a, b FROM t WHERE x = (SELECT max(y) FROM u WHERE u.id = t.id AND (1+2*3) > 4) ORDER BY 1";
const deep = "SELECT " + Array(15000).fill("'a'").join('||');
const counts = new Map<string, number>();
let okAll = true;
for (let i = 0; i < 300; i++) {
  const v = validateSqlSync(deep); counts.set(v.reason.slice(0, 60), (counts.get(v.reason.slice(0, 60)) ?? 0) + 1);
  const r = validateSqlSync(refSql); if (!r.allowed) { okAll = false; counts.set('REF:' + r.reason.slice(0, 60), (counts.get('REF:' + r.reason.slice(0, 60)) ?? 0) + 1); }
  if (i % 3 === 0) await new Promise((res) => setTimeout(res, 60));
}
console.log(counts, okAll, 'rss', Math.round(process.memoryUsage().rss / 1e6));
const t = performance.now(); const SQL = "SELECT i.id, i.name, i.price, lower(i.\"update\") AS u, count(*) OVER () AS total FROM items i WHERE i.price BETWEEN $1 AND $2 AND i.name LIKE 'item-%' ORDER BY i.price DESC, i.id LIMIT 10 OFFSET 0";
for (let i = 0; i < 20000; i++) validateSqlSync(SQL);
console.log('validate/s', Math.round(20000 / ((performance.now() - t) / 1000)));
