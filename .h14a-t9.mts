import { loadModule, parseSync } from 'libpg-query';
await loadModule();
const refSql = "SELECT a, b FROM t WHERE x = (SELECT max(y) FROM u WHERE u.id = t.id AND (1+2*3) > 4) ORDER BY 1";
const ref = JSON.stringify(parseSync(refSql));
const deep = "SELECT " + Array(24000).fill("'a'").join('||');
for (let i = 0; i < 500; i++) {
  try { parseSync(deep); } catch {}
  try { if (JSON.stringify(parseSync(refSql)) !== ref) { console.log('WRONG TREE at', i); break; } } catch (e) { console.log('broken at', i, (e as Error).message); break; }
}
