import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shownUrl, tracingSettings } from './tracing-config.js';

describe('tracingSettings', () => {
  const cases: { name: string; env: Record<string, string>; flag?: string; protocolFlag?: string; url?: string; source?: string; protocol?: string; off?: string; warns?: RegExp }[] = [
    { name: 'nothing set: off', env: {} },
    { name: 'blank variables: off', env: { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' } },
    { name: 'base endpoint gets /v1/traces', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, url: 'http://collector:4318/v1/traces', source: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    { name: 'base endpoint with a path and a slash', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/otlp/' }, url: 'https://otel.example/otlp/v1/traces' },
    { name: 'the traces endpoint is used as is', env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }, url: 'http://c:4318/custom', source: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' },
    { name: 'the flag wins over the variables', env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' }, flag: 'http://flag:4318', url: 'http://flag:4318/v1/traces', source: '--otlp-endpoint' },
    { name: 'the flag may name the traces URL', env: {}, flag: 'http://flag:4318/v1/traces', url: 'http://flag:4318/v1/traces' },
    { name: 'OTEL_SDK_DISABLED wins over the flag', env: { OTEL_SDK_DISABLED: 'TRUE' }, flag: 'http://flag:4318', off: 'OTEL_SDK_DISABLED=true' },
    { name: 'OTEL_SDK_DISABLED=false changes nothing', env: { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces' },
    { name: 'OTEL_TRACES_EXPORTER=none turns the variables off', env: { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, off: 'OTEL_TRACES_EXPORTER=none' },
    { name: 'another exporter is warned about', env: { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', warns: /zipkin is not supported/ },
    { name: 'protobuf by default', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', protocol: 'http/protobuf' },
    { name: 'JSON when asked', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/JSON', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', protocol: 'http/json' },
    { name: 'grpc: the base endpoint is used as is, no path added', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, url: 'http://c:4317', protocol: 'grpc' },
    { name: 'grpc for traces only', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'GRPC', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c:4317' }, url: 'https://c:4317', protocol: 'grpc' },
    { name: 'grpc from the flags, no path added', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, flag: 'http://flag:4317', protocolFlag: 'grpc', url: 'http://flag:4317', source: '--otlp-endpoint', protocol: 'grpc' },
    { name: 'the protocol flag wins over the variables', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, protocolFlag: 'http/json', url: 'http://c:4318/v1/traces', protocol: 'http/json' },
    { name: 'grpc at the HTTP port is warned about', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318', protocol: 'grpc', warns: /port 4318, a collector's OTLP\/HTTP port, with the grpc protocol/ },
    { name: 'HTTP at the gRPC port is warned about', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, url: 'http://c:4317/v1/traces', protocol: 'http/protobuf', warns: /port 4317, a collector's OTLP\/gRPC port.*OTEL_EXPORTER_OTLP_PROTOCOL=grpc/ },
    { name: 'a known sampler and its ratio pass', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces' },
    { name: 'an unknown sampler is warned about', env: { OTEL_TRACES_SAMPLER: 'bogus', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', warns: /OTEL_TRACES_SAMPLER=bogus is not a sampler \(always_on, .*\): parentbased_always_on is used/ },
    { name: 'a ratio out of range is warned about', env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '25%', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', warns: /OTEL_TRACES_SAMPLER_ARG=25% is not a ratio from 0 to 1: traceidratio samples every trace/ },
    { name: 'resource attributes that parse pass', env: { OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=gw-0, k8s.namespace.name=prod,,team=a%2Cb%3Dc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces' },
    { name: 'a resource attribute with a bare "=" is warned about', env: { OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=gw-0,build=a=b', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', warns: /OTEL_RESOURCE_ATTRIBUTES is ignored whole: its entry "build=a=b" is not one key=value .*none of its attributes are exported/ },
    { name: 'a resource attribute with a bare "%" is warned about', env: { OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=gw-0,discount=50%', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', warns: /its entry "discount=50%" is not percent-encoded correctly/ },
    { name: 'a resource attribute without a key is warned about', env: { OTEL_RESOURCE_ATTRIBUTES: '=x', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', warns: /its entry "=x" has no key/ },
    { name: 'an unknown protocol variable is warned about', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, url: 'http://c:4318/v1/traces', protocol: 'http/protobuf', warns: /thrift is not a protocol infergate knows \(http\/protobuf, http\/json, grpc\)/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = tracingSettings(c.env, c.flag, c.protocolFlag);
      assert.equal(s.config?.url, c.url);
      if (c.source) assert.equal(s.config?.source, c.source);
      if (c.protocol) assert.equal(s.config?.protocol, c.protocol);
      assert.equal(s.off, c.off);
      if (c.warns) assert.match(s.warnings.join('\n'), c.warns);
      else assert.deepEqual(s.warnings, []);
    });
  }

  it('refuses what is not an http(s) URL, saying what to give', () => {
    assert.throws(() => tracingSettings({}, 'collector:4318'), /--otlp-endpoint: "collector:4318" is not an http\(s\) URL; give the collector's OTLP\/HTTP endpoint with its scheme/);
    assert.throws(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), /OTEL_EXPORTER_OTLP_ENDPOINT: .* is not a URL; give the collector's OTLP\/HTTP endpoint/);
    assert.throws(() => tracingSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'collector:4317'), /"collector:4317" is not an http\(s\) URL; give the collector's OTLP\/gRPC endpoint with its scheme, e\.g\. http:\/\/otel-collector:4317/);
  });

  it('refuses an unknown --otlp-protocol, naming the ones it knows', () => {
    assert.throws(() => tracingSettings({}, 'http://c:4318', 'http'), /--otlp-protocol: "http" is not one of http\/protobuf, http\/json, grpc/);
  });
});

describe('shownUrl', () => {
  it('masks the credentials a URL carries, and leaves any other URL as it is', () => {
    const cases: [string, string][] = [
      ['https://tenant:s3cret@otel.example:4318/v1/traces', 'https://***@otel.example:4318/v1/traces'],
      ['https://token@otel.example/v1/traces', 'https://***@otel.example/v1/traces'],
      ['http://otel-collector:4318/v1/traces', 'http://otel-collector:4318/v1/traces'],
      ['not a url', 'not a url'],
    ];
    for (const [url, shown] of cases) assert.equal(shownUrl(url), shown, url);
  });

  it('keeps credentials out of the refusal of a URL that is not http(s)', () => {
    assert.throws(() => tracingSettings({}, 'grpc://tenant:s3cret@collector:4317'), (e: Error) => !e.message.includes('s3cret') && e.message.includes('"grpc://***@collector:4317" is not an http(s) URL'));
  });
});
