import { loadParser, validateSqlSync } from './src/postgres/index.js';
await loadParser();
const deep = "SELECT " + Array(15000).fill("'a'").join('||');
console.log(validateSqlSync(deep).reason);
for (let i = 0; i < 10; i++) { await new Promise((r) => setTimeout(r, 200)); console.log(i, validateSqlSync('SELECT 1').reason); }
