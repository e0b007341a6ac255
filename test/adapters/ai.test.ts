import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { aiTools } from '../../src/adapters/ai.js';
import { createGateway, defineTool } from '../../src/index.js';

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };

/** A model that calls `toolName` with `input` once, then answers with the tool result it saw. */
function scriptedModel(toolName: string, input: unknown) {
  let step = 0;
  return new MockLanguageModelV3({
    doGenerate: (options) => {
      step += 1;
      if (step === 1) {
        return Promise.resolve({ content: [{ type: 'tool-call' as const, toolCallId: 'call-1', toolName, input: JSON.stringify(input) }], finishReason: { unified: 'tool-calls' as const, raw: undefined }, usage, warnings: [] });
      }
      const last = options.prompt.at(-1);
      const seen = last?.role === 'tool' ? JSON.stringify(last.content[0]) : 'no tool result';
      return Promise.resolve({ content: [{ type: 'text' as const, text: seen }], finishReason: { unified: 'stop' as const, raw: undefined }, usage, warnings: [] });
    },
  });
}

async function gateway() {
  const gw = await createGateway({ policy: { allowTools: ['demo.*'], denyTools: ['demo.secret'], defaultDeny: true } }, { logger: { warn: () => undefined } });
  gw.register(defineTool({ name: 'demo.add', description: 'Adds two numbers.', inputSchema: z.strictObject({ a: z.number(), b: z.number() }), execute: ({ a, b }) => ({ sum: a + b }) }));
  gw.register(defineTool({ name: 'demo.secret', description: 'Never.', inputSchema: z.object({}), execute: () => 'leaked' }));
  return gw;
}

describe('Vercel AI SDK adapter', () => {
  it('exposes allowed tools under model-safe names and runs a model tool call through the gateway', async () => {
    await using gw = await gateway();
    const tools = aiTools(gw, { actor: 'ai-agent' });
    expect(Object.keys(tools)).toEqual(['demo_add']);
    const result = await generateText({ model: scriptedModel('demo_add', { a: 20, b: 22 }), tools, prompt: 'add', stopWhen: stepCountIs(3) });
    expect(result.steps[0]?.toolResults[0]).toMatchObject({ toolName: 'demo_add', output: { sum: 42 } });
    expect(result.text).toContain('42');
  });

  it('returns a refusal to the model as an error object with the code', async () => {
    await using gw = await gateway();
    const tools = aiTools(gw);
    const result = await generateText({ model: scriptedModel('demo_add', { a: 'x' }), tools, prompt: 'add', stopWhen: stepCountIs(3) });
    expect(result.steps[0]?.toolResults[0]?.output).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    // A tool the policy denies is not offered at all; calling it by name reaches no tool.
    expect(tools.demo_secret).toBeUndefined();
  });
});
