import { loadModule, parseSync } from 'libpg-query';
await loadModule();
const r = (label: string, sql: string) => { parseSync('SELECT 1'); let t = performance.now(); const tree = parseSync(sql); const p = performance.now() - t; console.log(label, sql.length, 'parse', Math.round(p), 'ms json', JSON.stringify(tree).length); };
r('list30000', 'SELECT ' + Array(30000).fill('1').join(','));
const n = 1000; r('cte1000', 'WITH ' + Array.from({length: n}, (_, i) => `c${i} AS (SELECT ${i > 0 ? `* FROM c${i-1}` : '1'})`).join(', ') + ` SELECT * FROM c${n-1}`);
r('and1000', 'SELECT 1 WHERE ' + Array(1000).fill('a = 1').join(' AND '));
r('x', "SELECT " + Array(20000).fill("'a'").join('||'));
