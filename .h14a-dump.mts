import { loadModule, parseSync } from 'libpg-query';
await loadModule();
for (const sql of process.argv.slice(2)) { try { console.log(sql, '\n ', JSON.stringify(parseSync(sql).stmts[0].stmt)); } catch (e) { console.log(sql, 'ERR', (e as Error).message); } }
