// The gateway's tools in a Vercel AI SDK agent. Offline, a scripted model stands in for a real
// one (pass any AI SDK model instead): it asks to read a file, then a file outside the root.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, stepCountIs, type LanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { aiTools } from 'portcullis/ai';
import { createGateway } from 'portcullis';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-ai-'));
await writeFile(join(dir, 'todo.txt'), 'ship the release');
const gw = await createGateway({ policy: { allowTools: ['fs.readFile'] }, connectors: { filesystem: { allowedPaths: [dir] } } });

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };
const calls = [{ path: 'todo.txt' }, { path: '../../etc/passwd' }];
let step = 0;
const model: LanguageModel = new MockLanguageModelV3({
  doGenerate: () => {
    const input = calls[step++];
    return Promise.resolve(
      input === undefined
        ? { content: [{ type: 'text' as const, text: 'done' }], finishReason: { unified: 'stop' as const, raw: undefined }, usage, warnings: [] }
        : { content: [{ type: 'tool-call' as const, toolCallId: `call-${step}`, toolName: 'fs_readFile', input: JSON.stringify(input) }], finishReason: { unified: 'tool-calls' as const, raw: undefined }, usage, warnings: [] },
    );
  },
});

const result = await generateText({ model, tools: aiTools(gw, { actor: 'ai-agent' }), prompt: 'What is on my list?', stopWhen: stepCountIs(4) });
for (const s of result.steps) for (const r of s.toolResults) console.log(`${r.toolName}(${JSON.stringify(r.input)}) → ${JSON.stringify(r.output)}`);
await gw.close();
