import { z } from 'zod';

/** The `alerts:` block. Placeholder shape; the alerts module owns it. */
export const alertsConfigSchema = z.strictObject({}).describe('email and webhook alerts');

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
