'use strict';
// The tutorial's `CredentialManager`, as `orchestrator.credentialManager`: the same three methods,
// backed by the Rust core (its token cache, its single-flight refresh, its exact-id rotation) rather
// than by a second cache in JS.
const { packageError, invalidOption } = require('../error-codes.js');

class CredentialManager {
  #orchestrator;
  #native;

  constructor(orchestrator, native) {
    this.#orchestrator = orchestrator;
    this.#native = native;
  }

  /**
   * The tenant a tutorial `credentials` object stands for: its `tenantId` (our config objects carry
   * it), else the one tenant with its `clientId` (and `domainPrefix`, when given). A string is a
   * tenant id.
   */
  tenantOf(credentials) {
    if (typeof credentials === 'string') return credentials;
    if (credentials === null || typeof credentials !== 'object') {
      throw invalidOption('credentials', 'must be a config object from tenantConfigs / fetchTenantConfig, or a tenant id', 'credentials must be a config object from tenantConfigs / fetchTenantConfig, or a tenant id');
    }
    if (typeof credentials.tenantId === 'string') return credentials.tenantId;
    const matches = [...this.#orchestrator.tenantConfigs.values()].filter(
      (c) => c.clientId === credentials.clientId && (credentials.domainPrefix === undefined || c.domainPrefix === credentials.domainPrefix),
    );
    if (matches.length !== 1) {
      const why = matches.length ? `${matches.length} tenants use that OAuth client` : 'no tenant uses that OAuth client';
      throw packageError('UNKNOWN_TENANT', `credentials for client ${credentials.clientId} name no single tenant: ${why}`, { clientId: credentials.clientId });
    }
    return matches[0].tenantId;
  }

  /** The tenant's official-SDK client (the one `getTenantClient()` gives). */
  async getGenesysClient(credentials) {
    return this.#orchestrator.getTenantClient(this.tenantOf(credentials));
  }

  /** A valid access token for the tenant, from the core's cache (refreshed ahead of expiry). */
  async fetchAccessToken(credentials) {
    return this.#orchestrator.getAccessToken(this.tenantOf(credentials));
  }

  /**
   * Rotates every tenant whose `domainPrefix` (or id) is exactly `domainPrefix` — never a prefix
   * match: `acme` does not touch `acme-corp`. The old token serves until the new one is ready.
   * Resolves to `{ rotated, failed: [{ tenantId, code, message }] }` and never rejects, so the
   * tutorial's fire-and-forget call cannot become an unhandled rejection.
   */
  async rotateCredentials(domainPrefix) {
    const ids = typeof domainPrefix === 'string' ? this.#native.tenantsNamed(domainPrefix) : [];
    const results = await Promise.allSettled(ids.map((id) => this.#orchestrator.rotateCredentials(id)));
    const rotated = [];
    const failed = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') rotated.push(ids[i]);
      else failed.push({ tenantId: ids[i], code: r.reason && r.reason.code, message: r.reason && r.reason.message });
    });
    return { rotated, failed };
  }
}

module.exports = { CredentialManager };
