import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../../tools.js';
import type { CredentialIndex, CredentialSummary, PendingSummary } from './credential-index.js';

/** What `pay.credentials` returns: where credentials are held and until when; never a token, macaroon or preimage. */
export interface PayCredentialsResult {
  credentials: CredentialSummary[];
  /** Payments whose outcome is unknown (their budget stays reserved until resumed). */
  pending: PendingSummary[];
}

/** The `pay.credentials` tool: the paid credentials held (redacted), optionally for one origin. */
export function payCredentialsTool(index: CredentialIndex, now: () => number): ToolDefinition<z.ZodType, PayCredentialsResult> {
  return defineTool({
    name: 'pay.credentials',
    description: 'Lists the paid credentials held (endpoint, scheme, expiry) and payments with an unknown outcome. Secrets are never shown.',
    inputSchema: z.strictObject({
      origin: z.string().min(1).max(2048).optional().describe('Only credentials for this origin (https://api.example.com)'),
    }),
    async execute(args): Promise<PayCredentialsResult> {
      const listed = await index.list(now());
      if (args.origin === undefined) return listed;
      let origin: string;
      try {
        origin = new URL(args.origin).origin;
      } catch {
        return { credentials: [], pending: [] };
      }
      const under = (url: string): boolean => url === origin || url.startsWith(`${origin}/`);
      return { credentials: listed.credentials.filter((c) => under(c.endpoint)), pending: listed.pending.filter((p) => under(p.url)) };
    },
  });
}
