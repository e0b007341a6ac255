// The quick-start demo (`npm run demo`): runs offline on embedded defaults and shows the
// pipeline at work: validate → default-deny policy → execute within limits → audit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createGateway, defineTool, isGatewayError, verifyAuditLog } from '../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-demo-'));
const auditFile = join(dir, 'audit.jsonl');

const gw = await createGateway({
  policy: {
    defaultDeny: true,
    allowTools: ['demo.*'],
    denyTools: ['demo.shutdown'],
    perTool: { 'demo.slow': { timeoutMs: 200 } },
  },
  audit: { file: auditFile },
});

// Host tools go through exactly the same pipeline as the built-in connectors.
gw.register(
  defineTool({
    name: 'demo.add',
    description: 'Adds two integers.',
    inputSchema: z.strictObject({ a: z.number().int(), b: z.number().int() }),
    execute: ({ a, b }) => ({ sum: a + b }),
  }),
);
gw.register(
  defineTool({
    name: 'demo.slow',
    description: 'Waits for the given number of ms, honouring the abort signal.',
    inputSchema: z.strictObject({ ms: z.number().int().nonnegative() }),
    execute: ({ ms }, { signal }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ waitedMs: ms }), ms);
        signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
      }),
  }),
);
gw.register(defineTool({ name: 'demo.shutdown', description: 'Never allowed.', inputSchema: z.object({}), execute: () => 'bye' }));
gw.register(defineTool({ name: 'admin.reset', description: 'Not in allowTools.', inputSchema: z.object({}), execute: () => 'reset' }));

console.log('Tools this agent may see:', gw.listTools().map((t) => t.name).join(', '));

async function attempt(tool: string, args: unknown): Promise<void> {
  try {
    const result = await gw.call(tool, args, { actor: 'demo-agent' });
    console.log(`  ok    ${tool} → ${JSON.stringify(result)}`);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    console.log(`  ${error.code.padEnd(18)} ${tool}: ${error.message}`);
  }
}

console.log('\nCalls:');
await attempt('demo.add', { a: 2, b: 40 });
await attempt('demo.add', { a: 2, b: 'forty' }); // VALIDATION_FAILED
await attempt('demo.shutdown', {}); // POLICY_DENIED: deny wins
await attempt('admin.reset', {}); // POLICY_DENIED: default deny
await attempt('demo.nope', {}); // TOOL_NOT_FOUND
await attempt('demo.slow', { ms: 5000 }); // TIMEOUT after 200 ms, the timer really stopped

await gw.close();

const verdict = await verifyAuditLog(auditFile);
console.log(`\nAudit log ${auditFile}:`);
console.log(`  ${verdict.ok ? `intact hash chain of ${verdict.records} records` : `TAMPERED at line ${verdict.line}: ${verdict.reason}`}`);
await rm(dir, { recursive: true, force: true });
