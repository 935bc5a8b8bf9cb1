// ESM entry: the same objects as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cjs = require('./index.js');

export const { TenantOrchestrator, ErrorCodes, EventKinds, isGenesysTenantsError, coreVersion, explainOperation, catalogueSource, fetchTenantConfig, executeWithScopeValidation, fetchWithPaginationAndRetry } = cjs;
export default cjs;
