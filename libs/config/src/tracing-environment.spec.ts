import { readTracingEnvironment } from './tracing-environment.js';

describe('readTracingEnvironment', () => {
  it('is off without an OTLP endpoint', () => {
    expect(readTracingEnvironment('gatehouse-edge', {})).toBeUndefined();
    expect(readTracingEnvironment('gatehouse-edge', { OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeUndefined();
  });

  it('is on with either endpoint variable, named after the process unless OTEL_SERVICE_NAME says otherwise', () => {
    expect(readTracingEnvironment('gatehouse-edge', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })).toEqual({
      serviceName: 'gatehouse-edge',
    });
    expect(
      readTracingEnvironment('gatehouse', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://otel:4318/v1/traces', OTEL_SERVICE_NAME: 'gw' }),
    ).toEqual({ serviceName: 'gw' });
  });

  it('is off when OTEL_SDK_DISABLED is true', () => {
    expect(
      readTracingEnvironment('gatehouse', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_SDK_DISABLED: 'TRUE' }),
    ).toBeUndefined();
  });
});
