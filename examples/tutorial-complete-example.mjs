// The tutorial's "Complete Working Example" (shared/seed: "Managing multi-tenant Genesys Cloud API access
// by rotating service account credentials and handling scope validation errors…"), verbatim except its
// import lines. The tutorial's module defines CredentialManager, fetchTenantConfig, TenantOrchestrator,
// executeWithScopeValidation and fetchWithPaginationAndRetry above its entry point; this package is that
// module, so its definitions and imports become one import:
//
// - import { GenesysCloud } from '@genesyscloud/genesyscloud';   // no such package (the official SDK is
// - import NodeCache from 'node-cache';                          // purecloud-platform-client-v2, used
// - import axios from 'axios';                                   // underneath by getTenantClient())
// - import { setInterval } from 'timers';
// - import { setTimeout } from 'timers/promises';
// - class CredentialManager { … }  async function fetchTenantConfig(…) { … }  class TenantOrchestrator { … }
// - async function executeWithScopeValidation(…) { … }  async function fetchWithPaginationAndRetry(…) { … }
// + import { TenantOrchestrator, executeWithScopeValidation } from 'genesys-tenants';
//
// Run: CONFIG_SERVICE_URL and CONFIG_SERVICE_TOKEN from `genesys-tenants emulator`, and
// GENESYS_TENANTS_GATEWAY set to the emulator's URL (without it, traffic goes to the tenants' real
// regions). The tutorial's call, usersApi.postUsersQuery, does not exist in the real SDK: it fails with
// an error naming the nearest real methods (see tutorial-complete-example-fixed.mjs for the one-line fix).
// The program never calls close(), as the tutorial does not: it still exits by itself.
import { TenantOrchestrator, executeWithScopeValidation } from 'genesys-tenants';

// --- Entry Point ---
async function main() {
  const orchestrator = new TenantOrchestrator(process.env.CONFIG_SERVICE_URL);
  await orchestrator.initialize();

  const tenantId = 'acme-corp';
  const gc = await orchestrator.getTenantClient(tenantId);
  const usersApi = gc.api.usersApi;

  try {
    const users = await executeWithScopeValidation(
      gc,
      async () => usersApi.postUsersQuery({ body: { pageSize: 25, expand: ['groups'] } }),
      ['user:read']
    );
    console.log(`Fetched ${users.body.total} users for ${tenantId}`);
  } catch (err) {
    console.error('Execution failed:', err.message);
  }
}

main().catch(console.error);
