import { loadParser, validateSqlSync } from './src/postgres/index.js';
import { parseSync } from 'libpg-query';
await loadParser();
const SQL = "SELECT i.id, i.name, i.price, lower(i.\"update\") AS u, count(*) OVER () AS total FROM items i WHERE i.price BETWEEN $1 AND $2 AND i.name LIKE 'item-%' ORDER BY i.price DESC, i.id LIMIT 10 OFFSET 0";
console.log(validateSqlSync(SQL));
for (let r = 0; r < 5; r++) {
  let t = performance.now(); for (let i = 0; i < 20000; i++) validateSqlSync(SQL);
  const v = 20000 / ((performance.now() - t) / 1000);
  t = performance.now(); for (let i = 0; i < 20000; i++) parseSync(SQL);
  const p = 20000 / ((performance.now() - t) / 1000);
  console.log('validate/s', Math.round(v), 'parse/s', Math.round(p));
}
