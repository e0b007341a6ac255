import { toJsonSchema } from '@langchain/core/utils/json_schema';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { langchainTools } from '../../src/adapters/langchain.js';
import { createGateway, defineTool } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { tempDir } from '../helpers/temp-dir.js';

async function gateway(auditFile?: string, ran: { count: number } = { count: 0 }) {
  const gw = await createGateway(
    { policy: { allowTools: ['demo.*'], perTool: { 'demo.limited': { rateLimit: { maxCalls: 0, windowMs: 60_000 } } } }, ...(auditFile === undefined ? {} : { audit: { file: auditFile } }) },
    { logger: { warn: () => undefined } },
  );
  gw.register(
    defineTool({
      name: 'demo.add',
      description: 'Adds two numbers.',
      inputSchema: z.strictObject({ a: z.number(), b: z.number() }),
      execute: ({ a, b }) => {
        ran.count += 1;
        return { sum: a + b };
      },
    }),
  );
  gw.register(defineTool({ name: 'demo.limited', description: 'Rate limited to nothing.', inputSchema: z.object({}), execute: () => 'ran' }));
  return gw;
}

describe('LangChain adapter', () => {
  it('invokes a structured tool directly and through a tool-call message', async () => {
    await using gw = await gateway();
    const tools = langchainTools(gw, { actor: 'lc-agent' });
    const add = tools.find((t) => t.name === 'demo_add');
    expect(add?.description).toBe('Adds two numbers.');
    expect(await add?.invoke({ a: 1, b: 2 })).toBe('{"sum":3}');
    const message = (await add?.invoke({ type: 'tool_call', id: 'call-7', name: 'demo_add', args: { a: 40, b: 2 } })) as { content: unknown; tool_call_id: string };
    expect(message.tool_call_id).toBe('call-7');
    expect(message.content).toBe('{"sum":42}');
  });

  it('returns the gateway refusal as an error object with the code', async () => {
    await using gw = await gateway();
    const limited = langchainTools(gw).find((t) => t.name === 'demo_limited');
    expect(JSON.parse(String(await limited?.invoke({})))).toMatchObject({ error: { code: 'RATE_LIMITED' } });
  });

  it('shows the model the gateway JSON Schema but leaves validation to the gateway: an invalid argument is a refusal as data, audited once', async () => {
    await using dir = await tempDir();
    const ran = { count: 0 };
    const gw = await gateway(dir.join('audit.jsonl'), ran);
    const add = langchainTools(gw, { actor: 'lc-agent' }).find((t) => t.name === 'demo_add');
    expect(toJsonSchema(add?.schema as never)).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false });
    const refused = JSON.parse(String(await add?.invoke({ a: 'one', b: 2 } as never))) as { error: { code: string; message: string } };
    expect(refused.error.code).toBe('VALIDATION_FAILED');
    const message = (await add?.invoke({ type: 'tool_call', id: 'call-9', name: 'demo_add', args: { a: 1, b: 2, extra: true } })) as { content: string; tool_call_id: string };
    expect(message.tool_call_id).toBe('call-9');
    expect(JSON.parse(message.content)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(JSON.parse(String(await add?.invoke('not an object' as never)))).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(ran.count).toBe(0);
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.actor, r.decision, r.error_code])).toEqual([
      ['demo.add', 'lc-agent', 'deny', 'VALIDATION_FAILED'],
      ['demo.add', 'lc-agent', 'deny', 'VALIDATION_FAILED'],
      ['demo.add', 'lc-agent', 'deny', 'VALIDATION_FAILED'],
    ]);
  });
});
