// tutorial-complete-example.mjs with its one broken line fixed: the tutorial calls
// usersApi.postUsersQuery, which the official SDK does not have; the real search is postUsersSearch,
// whose argument is the search body (with a query: MATCH_ALL lists everyone). Nothing else changed.
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
      async () => usersApi.postUsersSearch({ pageSize: 25, expand: ['groups'], query: [{ type: 'MATCH_ALL' }] }),
      ['user:read']
    );
    console.log(`Fetched ${users.body.total} users for ${tenantId}`);
  } catch (err) {
    console.error('Execution failed:', err.message);
  }
}

main().catch(console.error);
