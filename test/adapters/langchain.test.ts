import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { langchainTools } from '../../src/adapters/langchain.js';
import { createGateway, defineTool } from '../../src/index.js';

async function gateway() {
  const gw = await createGateway({ policy: { allowTools: ['demo.*'], perTool: { 'demo.limited': { rateLimit: { maxCalls: 0, windowMs: 60_000 } } } } }, { logger: { warn: () => undefined } });
  gw.register(defineTool({ name: 'demo.add', description: 'Adds two numbers.', inputSchema: z.strictObject({ a: z.number(), b: z.number() }), execute: ({ a, b }) => ({ sum: a + b }) }));
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
});
