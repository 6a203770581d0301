/**
 * Tracing setup, in one place: off unless OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Off installs nothing at all: the API keeps its
 * no-op provider, activeTracer (core/trace-context.ts) answers undefined, and the hot paths do no
 * span work. On installs the SDK's provider with a batching OTLP/HTTP exporter, the
 * AsyncLocalStorage context manager and the W3C propagator, with `service.name` from
 * OTEL_SERVICE_NAME or `kstream-commerce-<role>`; `shutdown` flushes what is queued.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ConfigError, StreamError } from './errors.ts';
import { redactUrl } from './redact.ts';

export interface TracingSettings {
  /** Where spans are exported (OTLP over HTTP, `/v1/traces`); undefined: tracing is off. */
  tracesUrl: string | undefined;
  serviceName: string;
}

export interface Tracing {
  enabled: boolean;
  /**
   * Exports what is queued and uninstalls the provider; a no-op when tracing is off. Gives up
   * after `timeoutMs` (rejecting; the provider is uninstalled all the same): a collector that is
   * down would otherwise hold the exit for the exporter's retries.
   */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** How long a shutdown waits for the last spans to be exported. */
export const TRACING_SHUTDOWN_TIMEOUT_MS = 3_000;

type Env = Readonly<Record<string, string | undefined>>;

/** The service name a role's spans carry unless OTEL_SERVICE_NAME says otherwise. */
export function defaultServiceName(role: string): string {
  return `kstream-commerce-${role}`;
}

/**
 * Reads the standard OTel settings. OTEL_EXPORTER_OTLP_ENDPOINT is a base URL (`/v1/traces` is
 * appended, as the OTLP specification says); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, if set, is the
 * traces URL as it is. A value that is not an http(s) URL is a ConfigError naming its variable.
 */
export function readTracingSettings(role: string, env: Env = process.env): TracingSettings {
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || defaultServiceName(role);
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return { tracesUrl: undefined, serviceName };
  const traces = httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (traces !== undefined) return { tracesUrl: traces, serviceName };
  const base = httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT);
  return { tracesUrl: base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`, serviceName };
}

function httpUrl(setting: string, raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(setting, 'an http:// or https:// URL of an OTLP/HTTP collector (e.g. http://127.0.0.1:4318)', value);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(setting, 'an http:// or https:// URL of an OTLP/HTTP collector (e.g. http://127.0.0.1:4318)', value);
  }
  return value;
}

/** The collector a role exports to, for a log line: without credentials. */
export function describeTracing(settings: TracingSettings): string {
  return settings.tracesUrl === undefined ? 'off' : `${settings.serviceName} -> ${redactUrl(settings.tracesUrl)}`;
}

/** Installs tracing as the settings say (readTracingSettings; see the module's comment). */
export function startTracing(settings: TracingSettings): Tracing {
  if (settings.tracesUrl === undefined) return { enabled: false, shutdown: async () => {} };
  // A larger queue than the default 2,048: a source at thousands of orders/s ends that many send
  // spans a second, and a full queue drops spans rather than slowing anything down.
  const processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.tracesUrl }), maxQueueSize: 16_384, maxExportBatchSize: 2_048 });
  return installTracing({ serviceName: settings.serviceName, spanProcessors: [processor] });
}

/**
 * Registers a provider with these span processors globally, with the context manager and the
 * W3C propagator: what startTracing does with the OTLP exporter, and tests with an in-memory one.
 */
export function installTracing(options: { serviceName: string; spanProcessors: SpanProcessor[] }): Tracing {
  const provider = new TracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }), spanProcessors: options.spanProcessors });
  // The API keeps the first provider registered and ignores the next: say so instead of exporting nothing.
  if (!trace.setGlobalTracerProvider(provider)) throw new StreamError('ILLEGAL_STATE', 'a tracer provider is registered already: shut the other tracing down first');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  let done: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: (timeoutMs = TRACING_SHUTDOWN_TIMEOUT_MS) => {
      done ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the last spans were not exported within ${timeoutMs} ms`)), timeoutMs);
          timer.unref();
        });
        try {
          await Promise.race([provider.shutdown(), timeout]);
        } finally {
          clearTimeout(timer);
          trace.disable();
          propagation.disable();
          context.disable();
        }
      })();
      return done;
    },
  };
}
