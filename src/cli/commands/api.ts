import { allRoutes } from '../../api/server.js';
import { openapiDocument } from '../../api/openapi.js';

/** `sipwarden api openapi`: the OpenAPI document, for client generators and API gateways. */
export async function openapiCommand(): Promise<void> {
  process.stdout.write(`${JSON.stringify(openapiDocument(allRoutes()), null, 2)}\n`);
}
