import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Metrics } from '../metrics/index.js';
import { healthReport, startHarness, type Answer, type Harness } from './harness.test.js';
import { allRoutes } from './server.js';

/** What every answer carries, health, metrics and the OpenAPI document. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function assertSecurityHeaders(answer: Answer, what: string): void {
  const csp = answer.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
  assert.match(csp, /script-src 'self'(;|$)/, `${what}: no inline or remote scripts`);
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(answer.headers.get('x-frame-options'), 'DENY', what);
  assert.equal(answer.headers.get('referrer-policy'), 'no-referrer', what);
}

describe('every answer', () => {
  it('carries the security headers, successes and errors alike; API answers are not cached', async () => {
    h = await startHarness();
    const viewer = { token: h.tokens.viewer.secret };
    const answers: [string, Answer][] = [
      ['decisions', await h.call('GET', '/api/v1/decisions', viewer)],
      ['401', await h.call('GET', '/api/v1/decisions')],
      ['403', await h.call('GET', '/api/v1/tokens', viewer)],
      ['400', await h.call('GET', '/api/v1/decisions?limit=0', viewer)],
      ['404 api', await h.call('GET', '/api/v1/nothing-here', viewer)],
      ['404 page', await h.call('GET', '/index.html')],
      ['bad url', await h.call('GET', '/api/v1/explain/%zz', viewer)],
      ['healthz', await h.call('GET', '/healthz')],
    ];
    for (const [what, answer] of answers) {
      assertSecurityHeaders(answer, what);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, what);
      if (what !== 'healthz' && what !== '404 page') assert.equal(answer.headers.get('cache-control'), 'no-store', what);
    }
    assert.deepEqual([answers[4]![1].status, answers[4]![1].json.error], [404, 'not-found']);
    assert.deepEqual([answers[5]![1].status, answers[5]![1].json.error], [404, 'not-found'], 'no console configured: no page');
  });

  it('a method the route does not have is a JSON 404, not a 500', async () => {
    h = await startHarness();
    for (const [method, path] of [['PUT', '/api/v1/decisions'], ['PATCH', '/api/v1/tokens/1'], ['DELETE', '/api/v1/decisions/1']]) {
      const answer = await h.call(method!, path!, { token: h.tokens.admin.secret });
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.json.error, 'not-found');
    }
  });
});

describe('health', () => {
  it('/healthz says ok with 200, degraded with 503 when the enforcer fails; /api/v1/health tells the whole report', async () => {
    h = await startHarness();
    const ok = await h.call('GET', '/healthz');
    assert.deepEqual([ok.status, ok.json], [200, { status: 'ok', node: 'apitest' }]);
    h.health = healthReport({ enforcer: { name: 'nftables', ok: false, detail: 'table inet sipwarden missing', checkedAt: 1 } });
    const bad = await h.call('GET', '/healthz');
    assert.deepEqual([bad.status, bad.json], [503, { status: 'degraded', node: 'apitest' }]);
    assert.equal(bad.text.includes('table inet sipwarden'), false, 'no detail for the unauthenticated');
    const full = await h.call('GET', '/api/v1/health', { token: h.tokens.viewer.secret });
    assert.equal(full.status, 200, 'the report itself is fine to read while degraded');
    assert.deepEqual(full.json, h.health);
  });

  it('/metrics is Prometheus text with metrics, 404 JSON without', async () => {
    h = await startHarness({ metrics: new Metrics({ version: '9.9.9-test', sources: ['ast'], rules: ['bruteforce'], clock: { now: () => 0 } }) });
    const answer = await h.call('GET', '/metrics', { token: h.tokens.viewer.secret });
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(answer.text, /^sipwarden_build_info\{version="9\.9\.9-test"\} 1$/m);
    assert.match(answer.text, /^# TYPE sipwarden_\w+ (counter|gauge|histogram)$/m);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    await h.close();
    h = await startHarness();
    const none = await h.call('GET', '/metrics', { token: h.tokens.viewer.secret });
    assert.deepEqual([none.status, none.json.error], [404, 'not-found']);
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with every route, its method, role, parameters, body and success status', async () => {
    h = await startHarness();
    const answer = await h.call('GET', '/api/v1/openapi.json', { token: h.tokens.viewer.secret });
    assert.equal(answer.status, 200);
    const doc = answer.json;
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'sipwarden API');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes.bearer.description });
    assert.deepEqual([doc.components.securitySchemes.session.type, doc.components.securitySchemes.session.in, doc.components.securitySchemes.session.name], ['apiKey', 'cookie', 'sipwarden_session']);
    const routes = allRoutes();
    let operations = 0;
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${path} is in the document`);
      operations++;
      assert.equal(typeof op.summary, 'string');
      assert.ok(op.responses[String(r.status ?? 200)], `${r.method} ${path}: its success status`);
      if (r.role === null) {
        assert.deepEqual(op.security, [], `${r.method} ${path} needs no token`);
      } else {
        assert.deepEqual(op.security, [{ bearer: [] }, { session: [] }]);
        assert.equal(op['x-sipwarden-role'], r.role);
        for (const status of ['401', '403', '429']) assert.ok(op.responses[status], `${r.method} ${path}: ${status}`);
      }
      for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
        assert.ok(op.parameters.some((p: { name: string; in: string; required: boolean }) => p.name === name && p.in === 'path' && p.required), `${path}: path parameter ${name}`);
      }
      if (r.body) {
        assert.ok(op.requestBody.content['application/json'].schema, `${r.method} ${path}: a body schema`);
        assert.ok(op.responses['400'], `${r.method} ${path}: 400`);
      }
    }
    const documented = Object.values(doc.paths).reduce((n: number, methods) => n + Object.keys(methods as object).length, 0);
    assert.equal(documented, operations, 'nothing documented that is not served');
    const ban = doc.paths['/api/v1/decisions'].post;
    assert.deepEqual(ban.requestBody.content['application/json'].schema.required.sort(), ['reason', 'target']);
    assert.equal(ban.requestBody.content['application/json'].schema.additionalProperties, false, 'strict bodies are documented as strict');
    const list = doc.paths['/api/v1/decisions'].get.parameters.map((p: { name: string }) => p.name);
    for (const name of ['active', 'target', 'rule', 'origin', 'before', 'limit']) assert.ok(list.includes(name), `decisions list parameter ${name}`);
    assert.equal(doc.paths['/api/v1/decisions'].get.parameters.find((p: { name: string }) => p.name === 'limit').required, false);
  });
});
