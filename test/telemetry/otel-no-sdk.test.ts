// Without a registered SDK the gateway gets no telemetry at all (zero cost per call). Runs in its
// own file: the OpenTelemetry globals start empty here (vitest isolates test files).
import { context, metrics, trace, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool, type Gateway } from '../../src/index.js';
import { createTelemetry } from '../../src/telemetry/otel.js';

const quiet = { logger: { warn: () => undefined } };

/** A tracer provider that counts the spans started through it (a real span object, not recorded). */
function countingProvider(onStart: () => Span = () => trace.wrapSpanContext({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 })) {
  const counter = { started: 0 };
  const tracer: Tracer = {
    startSpan: () => {
      counter.started++;
      return onStart();
    },
    startActiveSpan: (() => {
      throw new Error('not used by the gateway');
    }),
  };
  return { counter, provider: { getTracer: () => tracer } };
}

async function gateway(): Promise<Gateway> {
  const gw = await createGateway({ policy: { allowTools: ['demo.*'] } }, quiet);
  gw.register(defineTool({ name: 'demo.echo', description: 'Echoes.', inputSchema: z.strictObject({ text: z.string() }), execute: ({ text }) => text }));
  return gw;
}

afterEach(() => {
  trace.disable();
  metrics.disable();
});

describe('OpenTelemetry without a registered SDK', () => {
  it('installs nothing: no telemetry object, and a gateway created before the SDK never starts a span', async () => {
    expect(await createTelemetry()).toBeUndefined();
    await using before = await gateway();
    const { counter, provider } = countingProvider();
    trace.setGlobalTracerProvider(provider);
    await before.call('demo.echo', { text: 'x' });
    expect(counter.started).toBe(0); // documented: register the SDK before createGateway
    // The same call on a gateway created after the registration does start a span (the test can fail).
    expect(await createTelemetry()).toBeDefined();
    await using after = await gateway();
    await after.call('demo.echo', { text: 'x' });
    expect(counter.started).toBe(1);
  });

  it('a meter provider alone is enough for the counters', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    await using gw = await gateway();
    await gw.call('demo.echo', { text: 'x' });
    await gw.call('demo.echo', { text: 'y' }, { actor: 'agent-1' });
    await reader.forceFlush();
    const calls = exporter.getMetrics().at(-1)?.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === 'portcullis.calls');
    expect(calls?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ 'portcullis.tool': 'demo.echo', 'portcullis.decision': 'allow' }, 2]]);
  });

  it('a failing SDK (startSpan or end throws) never changes the outcome of a call', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const broken = countingProvider(() => {
      throw new Error('broken SDK');
    });
    trace.setGlobalTracerProvider(broken.provider);
    await using gw = await gateway();
    await expect(gw.call('demo.echo', { text: 'ok' })).resolves.toBe('ok');
    await expect(gw.call('demo.nope', {})).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(broken.counter.started).toBe(2);
    trace.disable();
    const endThrows = trace.wrapSpanContext({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 });
    endThrows.end = () => {
      throw new Error('broken processor');
    };
    trace.setGlobalTracerProvider(countingProvider(() => endThrows).provider);
    await using gw2 = await gateway();
    await expect(gw2.call('demo.echo', { text: 'ok' })).resolves.toBe('ok');
    await expect(gw2.call('demo.echo', { text: 1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    context.disable();
  });
});
