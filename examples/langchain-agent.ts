// The gateway's tools as LangChain tools: invoked the way an agent executor invokes them,
// with a tool-call message. Bind them to any chat model with `model.bindTools(tools)`.
import { z } from 'zod';
import { langchainTools } from 'portcullis/langchain';
import { createGateway, defineTool } from 'portcullis';

const gw = await createGateway({ policy: { allowTools: ['shop.*'], denyTools: ['shop.refund'] } });
gw.register(defineTool({ name: 'shop.price', description: 'Price of an item, in cents.', inputSchema: z.strictObject({ sku: z.string().max(20) }), execute: ({ sku }) => ({ sku, cents: 1999 }) }));
gw.register(defineTool({ name: 'shop.refund', description: 'Refunds an order.', inputSchema: z.strictObject({ order: z.string() }), execute: () => 'refunded' }));

const tools = langchainTools(gw, { actor: 'lc-agent' });
console.log('tools offered to the model:', tools.map((t) => t.name).join(', '));
const price = tools.find((t) => t.name === 'shop_price');
console.log(await price?.invoke({ type: 'tool_call', id: 'call-1', name: 'shop_price', args: { sku: 'LAMP-01' } }));
await gw.close();
