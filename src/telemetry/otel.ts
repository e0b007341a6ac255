// OpenTelemetry for gw.call, when the host has `@opentelemetry/api` installed: one span per call
// and a few counters. The API package is loaded once, at the first createGateway; without it
// (or with `deps.telemetry: false`) the gateway's call is not wrapped at all.
import type * as OtelApi from '@opentelemetry/api';
import { isGatewayError, isRefusalCode } from '../errors.js';
import type { PaymentEvent } from '../pay/payer-types.js';

type Api = typeof OtelApi;
type CallFn = (name: string, args?: unknown, ctx?: { actor?: string | undefined }) => Promise<unknown>;

/** What the gateway hooks: its call, wrapped; payment events, counted. */
export interface CallTelemetry {
  wrap<F extends CallFn>(call: F): F;
  payment(event: PaymentEvent): void;
}

let loading: Promise<Api | undefined> | undefined;

/** `@opentelemetry/api`, imported once per process; undefined when it is not installed. */
function loadApi(): Promise<Api | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  );
  return loading;
}

/** Actor ids as the gateway accepts them; anything else is left out of spans. */
const ACTOR = /^[^\p{Cc}]{1,256}$/u;

/**
 * The telemetry of one gateway, or undefined when `@opentelemetry/api` is not installed.
 * Spans and metrics record the tool, actor, decision, error code and duration: never argument
 * values, results, error messages or secrets. An unknown tool name (agent text) is recorded as
 * `(unknown)`, so agents cannot fill the metrics with names of their own.
 */
export async function createTelemetry(): Promise<CallTelemetry | undefined> {
  const loaded = await loadApi();
  if (loaded === undefined) return undefined;
  const api: Api = loaded;
  const tracer = api.trace.getTracer('portcullis');
  // Meters are bound to the provider registered when the gateway is created: register the SDK first.
  const meter = api.metrics.getMeter('portcullis');
  // Counted here and reported when the SDK collects (observable counters): a Map update per
  // call instead of an attribute-set lookup per instrument per call.
  const calls = new Map<string, { count: number; attributes: Record<string, string> }>();
  const refusals = new Map<string, { count: number; attributes: Record<string, string> }>();
  const payments = new Map<string, { count: number; attributes: Record<string, string> }>();
  const spent = new Map<string, { count: number; attributes: Record<string, string> }>();
  const count = (map: typeof calls, key: string, attributes: () => Record<string, string>, by = 1): void => {
    const entry = map.get(key);
    if (entry === undefined) map.set(key, { count: by, attributes: attributes() });
    else entry.count += by;
  };
  const observe = (name: string, description: string, unit: string, map: typeof calls): void =>
    meter.createObservableCounter(name, { description, unit }).addCallback((result) => {
      for (const { count: value, attributes } of map.values()) result.observe(value, attributes);
    });
  observe('portcullis.calls', 'Tool calls through gw.call, by tool and decision.', '{call}', calls);
  observe('portcullis.refusals', 'Calls refused, by error code.', '{call}', refusals);
  observe('portcullis.payments', 'Payment events, by outcome and method.', '{payment}', payments);
  observe('portcullis.payments.spent', 'Sats paid, fees included.', 'sat', spent);
  const { SpanKind, SpanStatusCode } = api;

  /** Ends the call's span and counts it. `error` is what the call threw (undefined: it returned). */
  function finish(span: OtelApi.Span, name: string, actor: unknown, error: unknown): void {
    const code = error === undefined ? undefined : isGatewayError(error) ? error.code : 'TOOL_FAILED';
    const decision = code === undefined ? 'allow' : isGatewayError(error) && isRefusalCode(error.code) ? 'deny' : 'error';
    const tool = code === 'TOOL_NOT_FOUND' || typeof name !== 'string' ? '(unknown)' : name;
    const attributes: Record<string, string> = { 'portcullis.tool': tool, 'portcullis.decision': decision };
    if (code !== undefined) attributes['portcullis.error_code'] = code;
    span.updateName(`portcullis.call ${tool}`);
    span.setAttributes(typeof actor === 'string' && ACTOR.test(actor) ? { ...attributes, 'portcullis.actor': actor } : attributes);
    if (code !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    span.end();
    count(calls, `${decision} ${tool}`, () => ({ 'portcullis.tool': tool, 'portcullis.decision': decision }));
    if (decision === 'deny' && code !== undefined) count(refusals, code, () => ({ 'portcullis.error_code': code }));
  }

  function wrap<F extends CallFn>(wrapped: F): F {
    const call: CallFn = wrapped;
    // Not an async function: one promise (the .then) on top of the call's, no extra await level.
    const traced = (name: string, args?: unknown, ctx?: { actor?: string | undefined }): Promise<unknown> => {
      // The caller's active context (a W3C trace context it extracted, or its own span) is the parent.
      const parent = api.context.active();
      const span = tracer.startSpan('portcullis.call', { kind: SpanKind.INTERNAL }, parent);
      return api.context.with(api.trace.setSpan(parent, span), call, undefined, name, args, ctx).then(
        (result) => {
          finish(span, name, ctx?.actor, undefined);
          return result;
        },
        (error: unknown) => {
          finish(span, name, ctx?.actor, error ?? new Error('undefined thrown'));
          throw error;
        },
      );
    };
    return traced as F;
  }

  function payment(event: PaymentEvent): void {
    const method = event.method ?? 'lightning';
    const attributes = (): Record<string, string> => ({ 'portcullis.payment.outcome': event.outcome, 'portcullis.payment.method': method });
    count(payments, `${event.outcome} ${method}`, attributes);
    if (event.outcome === 'paid' || event.outcome === 'rejected-after-payment') {
      const msat = (event.amountMsat ?? 0) + (event.feeMsat ?? 0);
      if (msat > 0) count(spent, `${event.outcome} ${method}`, attributes, msat / 1000);
    }
  }

  return { wrap, payment };
}
