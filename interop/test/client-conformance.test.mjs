// The conformance suite's client scenarios against testbins/examples/conformance_client: the
// 2025-11-25 and 2026-07-28 requirement sets of the pre-release line (@modelcontextprotocol/conformance
// 0.2.0-alpha.12, pinned in interop/next; every auth discovery variant, CIMD, scope selection,
// step-up and its retry limit, each token-endpoint auth method, pre-registration, elicitation
// defaults, SSE resumption, JSON Schema preservation; and the extensions for machines and
// companies: client credentials with a secret or private_key_jwt, DPoP-bound tokens with and
// without server nonces, workload identity's JWT-bearer grant, enterprise-managed
// authorization's token exchange and ID-JAG), and the
// released line's (0.1.16)
// 2025-03-26 back-compat auth scenarios.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { INTEROP_DIR, exampleBinary, runNodeBin } from './lib/harness.mjs';

const CONFORMANCE_NEXT = join(INTEROP_DIR, 'next', 'node_modules', '.bin', 'conformance');

// Extensions no revision requires: every one is done (client credentials with a secret or
// private_key_jwt, DPoP with and without nonces, workload identity, enterprise-managed
// authorization) and asserted below; none may fail.
const UNSCORED = new Set();

describe('conformance client scenarios against testbins/examples/conformance_client', () => {
  test('--requirements 2025-11-25 (0.2.0-alpha.12): every scored scenario', { timeout: 300_000 }, async () => {
    const client = exampleBinary('conformance_client');
    const run = await runNodeBin(
      CONFORMANCE_NEXT,
      ['client', '--command', client, '--requirements', '2025-11-25', '-o', join(INTEROP_DIR, '.results', 'client-2025-11-25')],
      { timeoutMs: 280_000 },
    );
    const out = run.output;
    // Scored scenarios all pass; only the extensions (client credentials, DPoP, enterprise,
    // workload identity), which no revision requires, may fail.
    const failing = [...out.matchAll(/^✗ (\S+):/gm)].map((m) => m[1]);
    assert.deepEqual(failing.filter((s) => !UNSCORED.has(s)), [], out);
    for (const s of ['initialize', 'tools_call', 'elicitation-sep1034-client-defaults', 'sse-retry',
      'auth/metadata-default', 'auth/metadata-var1', 'auth/metadata-var2', 'auth/metadata-var3',
      'auth/basic-cimd', 'auth/scope-from-www-authenticate', 'auth/scope-from-scopes-supported',
      'auth/scope-omitted-when-undefined', 'auth/scope-step-up', 'auth/scope-retry-limit',
      'auth/token-endpoint-auth-basic', 'auth/token-endpoint-auth-post', 'auth/token-endpoint-auth-none',
      'auth/pre-registration', 'json-schema-2020-12-preservation',
      'auth/client-credentials-basic', 'auth/client-credentials-jwt', 'auth/wif-jwt-bearer',
      'auth/enterprise-managed-authorization', 'auth/dpop', 'auth/dpop-nonce']) {
      assert.match(out, new RegExp(`^✓ ${s.replace('/', '\\/')}: \\d+ passed, 0 failed`, 'm'), `${s}\n${out}`);
    }
    assert.match(out, /Total: \d+ passed, \d+ failed, 0 warnings/, out);
  });

  test('--requirements 2026-07-28 (0.2.0-alpha.12): every scored scenario', { timeout: 300_000 }, async () => {
    const run = await runNodeBin(
      CONFORMANCE_NEXT,
      ['client', '--command', exampleBinary('conformance_client'), '--requirements', '2026-07-28', '-o', join(INTEROP_DIR, '.results', 'client-2026-07-28')],
      { timeoutMs: 280_000 },
    );
    const out = run.output;
    const failing = [...out.matchAll(/^✗ (\S+):/gm)].map((m) => m[1]);
    assert.deepEqual(failing.filter((s) => !UNSCORED.has(s)), [], out);
    for (const s of ['tools_call', 'request-metadata', 'auth/resource-mismatch', 'auth/offline-access-scope',
      'auth/offline-access-not-supported', 'auth/authorization-server-migration', 'auth/iss-supported',
      'auth/iss-not-advertised', 'auth/iss-supported-missing', 'auth/iss-wrong-issuer', 'auth/iss-unexpected',
      'auth/iss-normalized', 'auth/metadata-issuer-mismatch', 'sep-2322-client-request-state',
      'http-standard-headers', 'http-custom-headers', 'http-invalid-tool-headers', 'json-schema-ref-no-deref',
      'auth/scope-step-up', 'auth/basic-cimd', 'auth/pre-registration']) {
      assert.match(out, new RegExp(`^✓ ${s.replace('/', '\\/')}: \\d+ passed, 0 failed`, 'm'), `${s}\n${out}`);
    }
    assert.match(out, /Total: \d+ passed, \d+ failed, 0 warnings/, out);
  });

  for (const scenario of ['auth/2025-03-26-oauth-metadata-backcompat', 'auth/2025-03-26-oauth-endpoint-fallback']) {
    test(`${scenario} (released line 0.1.16)`, { timeout: 60_000 }, async () => {
      const run = await runNodeBin(
        'conformance',
        ['client', '--command', exampleBinary('conformance_client'), '--scenario', scenario],
        { timeoutMs: 55_000 },
      );
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /OVERALL: PASSED/, run.output);
    });
  }
});
