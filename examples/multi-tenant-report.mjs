// A multi-tenant report in the tutorial's pattern, on this package: every tenant of the config service,
// its organization, every user and every analytics conversation of an interval — with the tutorial's
// helpers and shapes (a Map from fetchTenantConfig, apiCall(nextToken) with null first, { entities }).
//
// Run it against the emulator: `genesys-tenants emulator` prints CONFIG_ENDPOINT and
// CONFIG_SERVICE_TOKEN; set GENESYS_TENANTS_GATEWAY to the emulator's URL (the way the SDK's config
// file [gateway] section points an unmodified program elsewhere). Without it, traffic goes to the
// tenants' real Genesys Cloud regions.
import platformClient from 'purecloud-platform-client-v2';
import { TenantOrchestrator, fetchTenantConfig, executeWithScopeValidation, fetchWithPaginationAndRetry } from 'genesys-tenants';

const CONFIG_ENDPOINT = process.env.CONFIG_ENDPOINT;
const REPORT_INTERVAL = process.env.REPORT_INTERVAL || '2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z';

async function runTenantReport(orchestrator, tenantId) {
  const client = await orchestrator.getTenantClient(tenantId);

  // Organization details need only a valid token.
  const org = await executeWithScopeValidation(client, () => new platformClient.OrganizationApi(client).getOrganizationsMe(), [
    'organization:readonly',
  ]);

  // Every user, page by page, with 429s waited out.
  const usersApi = new platformClient.UsersApi(client);
  const users = await fetchWithPaginationAndRetry((nextPage) => usersApi.getUsers({ pageSize: 100, pageNumber: nextPage ?? 1 }), 3);

  // Conversation details for the reporting interval, every page.
  const analyticsApi = new platformClient.AnalyticsApi(client);
  const conversations = await executeWithScopeValidation(
    client,
    () =>
      fetchWithPaginationAndRetry(
        (nextPage) =>
          analyticsApi.postAnalyticsConversationsDetailsQuery({ interval: REPORT_INTERVAL, paging: { pageSize: 100, pageNumber: nextPage ?? 1 } }),
        3,
      ),
    ['analytics:readonly'],
  );

  return { tenantId, organization: org.name, users: users.totalCount, conversations: conversations.totalCount };
}

async function main() {
  const tenants = await fetchTenantConfig(CONFIG_ENDPOINT);
  console.log(`Loaded ${tenants.size} tenant configurations`);

  const orchestrator = new TenantOrchestrator(CONFIG_ENDPOINT);
  await orchestrator.initialize();

  try {
    for (const [tenantId] of tenants) {
      try {
        const report = await runTenantReport(orchestrator, tenantId);
        console.log(JSON.stringify({ ok: true, ...report }));
      } catch (error) {
        // Scope and permission problems name exactly what the tenant's OAuth client lacks.
        console.log(
          JSON.stringify({
            ok: false,
            tenantId,
            code: error.code,
            missingPermissions: error.missingPermissions,
            missingScopes: error.missingScopes,
            message: error.message,
          }),
        );
      }
    }
  } finally {
    await orchestrator.close();
  }
}

main().catch((error) => {
  console.error('Fatal:', error.code || '', error.message);
  process.exitCode = 1;
});
