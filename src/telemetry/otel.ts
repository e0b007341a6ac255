// OpenTelemetry for gw.call, when the host has `@opentelemetry/api` installed and has registered
// an SDK (a tracer or meter provider) before createGateway: one span per call and a few counters.
// The API package is loaded once, at the first createGateway. Without it, without a registered
// SDK, or with `deps.telemetry: false`, the gateway gets no telemetry object and pays nothing per call.
//
// Hot path: gw.call calls `start` once, `run` around the tool's execute (allowed calls only) and
// `end` in its finally step. No extra async layer or promise, no closure per call: one startSpan
// with the name and attributes known up front, the parent context read once, one setAttribute
// (decision) at the end, and counters pre-bound per tool and per error code.
import type * as OtelApi from '@opentelemetry/api';
import type { AuditRecord } from '../audit/record.js';
import type { PaymentEvent } from '../pay/payer-types.js';

type Api = typeof OtelApi;

/** One counted series: its value and its attribute set, built once. */
interface Series {
  count: number;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Per tool name (registered tools and `(unknown)`: bounded), built on first use. */
interface ToolInfo {
  readonly tool: string;
  readonly spanName: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly calls: Readonly<Record<AuditRecord['decision'], Series>>;
}

/** The telemetry of one call: returned by `start`, ended by `end`. */
export interface CallTrace {
  /** Runs `tool.execute(args, ctx)` with the call's span as the active context (host tools' own spans nest in it). */
  run<A, C, R>(tool: { execute(args: A, ctx: C): R }, args: A, ctx: C): R;
  /** Ends the span and counts the call, from its audit record (decision, error code). */
  end(record: AuditRecord): void;
}

/** What the gateway hooks: each call, and payment events. */
export interface CallTelemetry {
  /** Called once per call, before any check. `registered`: whether `name` is a registered tool (else it is recorded as `(unknown)`). */
  start(name: string, registered: boolean, actor: string | undefined): CallTrace;
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

/** Whether the global tracer provider is still the API's no-op one (no SDK registered). */
function noTracerProvider(api: Api): boolean {
  const provider: unknown = api.trace.getTracerProvider();
  if (!(provider instanceof api.ProxyTracerProvider)) return false;
  const delegate = provider.getDelegate();
  return delegate === new api.ProxyTracerProvider().getDelegate() || delegate.constructor.name === 'NoopTracerProvider';
}

/**
 * The telemetry of one gateway, or undefined when `@opentelemetry/api` is not installed or no
 * SDK is registered yet (register the SDK's tracer and/or meter provider before createGateway).
 * Spans and metrics record the tool, actor, decision, error code and duration: never argument
 * values, results, error messages or secrets. An unknown tool name (agent text) is recorded as
 * `(unknown)`, so agents cannot fill the metrics with names of their own.
 */
export async function createTelemetry(): Promise<CallTelemetry | undefined> {
  const loaded = await loadApi();
  if (loaded === undefined) return undefined;
  const api: Api = loaded;
  const meter = api.metrics.getMeter('portcullis');
  const withTracer = !noTracerProvider(api);
  const withMeter = meter !== api.createNoopMeter();
  if (!withTracer && !withMeter) return undefined;
  const tracer = withTracer ? api.trace.getTracer('portcullis') : undefined;
  const { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } = api;

  // Counted here and reported when the SDK collects (observable counters): an increment per
  // call on a series bound to the tool (or code), no attribute-set lookup per call.
  const tools = new Map<string, ToolInfo>();
  const refusals = new Map<string, Series>();
  const payments = new Map<string, Series>();
  const spent = new Map<string, Series>();
  const observe = (name: string, description: string, unit: string, series: () => Iterable<Series>): void =>
    meter.createObservableCounter(name, { description, unit }).addCallback((result) => {
      for (const { count, attributes } of series()) if (count > 0) result.observe(count, attributes);
    });
  observe('portcullis.calls', 'Tool calls through gw.call, by tool and decision.', '{call}', function* () {
    for (const info of tools.values()) yield* Object.values(info.calls);
  });
  observe('portcullis.refusals', 'Calls refused, by error code.', '{call}', () => refusals.values());
  observe('portcullis.payments', 'Payment events, by outcome and method.', '{payment}', () => payments.values());
  observe('portcullis.payments.spent', 'Sats paid, fees included.', 'sat', () => spent.values());

  const series = (map: Map<string, Series>, key: string, attributes: Record<string, string>): Series => {
    let found = map.get(key);
    if (found === undefined) map.set(key, (found = { count: 0, attributes }));
    return found;
  };
  const toolInfo = (tool: string): ToolInfo => {
    let info = tools.get(tool);
    if (info === undefined) {
      const bound = (decision: string): Series => ({ count: 0, attributes: { 'portcullis.tool': tool, 'portcullis.decision': decision } });
      info = { tool, spanName: `portcullis.call ${tool}`, attributes: { 'portcullis.tool': tool }, calls: { allow: bound('allow'), deny: bound('deny'), error: bound('error') } };
      tools.set(tool, info);
    }
    return info;
  };
  const unknown = toolInfo('(unknown)');

  class Traced implements CallTrace {
    constructor(
      private readonly info: ToolInfo,
      private readonly span: OtelApi.Span | undefined,
      private readonly parent: OtelApi.Context,
    ) {}

    run<A, C, R>(tool: { execute(args: A, ctx: C): R }, args: A, ctx: C): R {
      if (this.span === undefined) return tool.execute(args, ctx);
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with `tool` as this
      return context.with(trace.setSpan(this.parent, this.span), tool.execute, tool, args, ctx);
    }

    end(record: AuditRecord): void {
      this.info.calls[record.decision].count++;
      const code = record.error_code;
      if (code !== null && record.decision === 'deny') series(refusals, code, { 'portcullis.error_code': code }).count++;
      const span = this.span;
      if (span === undefined) return;
      try {
        span.setAttribute('portcullis.decision', record.decision);
        if (code !== null) {
          span.setAttribute('portcullis.error_code', code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: code });
        }
        span.end();
      } catch {
        // A failing SDK (a span processor that throws) never changes the call's outcome.
      }
    }
  }

  function start(name: string, registered: boolean, actor: string | undefined): CallTrace {
    const info = registered ? toolInfo(name) : unknown;
    // The caller's active context (a W3C trace context it extracted, or its own span) is the parent.
    // Without a tracer there is no span to parent: the context is not read.
    if (tracer === undefined) return new Traced(info, undefined, ROOT_CONTEXT);
    const parent = context.active();
    // `actor` has passed the gateway's checks (1-256 characters, no control characters) or is undefined.
    // An object literal, not a spread: spreading an attribute object costs ~0.7 us here.
    const attributes = actor === undefined ? info.attributes : { 'portcullis.tool': info.tool, 'portcullis.actor': actor };
    let span: OtelApi.Span | undefined;
    try {
      span = tracer.startSpan(info.spanName, { kind: SpanKind.INTERNAL, attributes }, parent);
    } catch {
      span = undefined; // a failing SDK: the call goes on, counted but without a span
    }
    return new Traced(info, span, parent);
  }

  function payment(event: PaymentEvent): void {
    const method = event.method ?? 'lightning';
    const key = `${event.outcome} ${method}`;
    const attributes = { 'portcullis.payment.outcome': event.outcome, 'portcullis.payment.method': method };
    series(payments, key, attributes).count++;
    if (event.outcome === 'paid' || event.outcome === 'rejected-after-payment') {
      const msat = (event.amountMsat ?? 0) + (event.feeMsat ?? 0);
      if (msat > 0) series(spent, key, attributes).count += msat / 1000;
    }
  }

  return { start, payment };
}
