import type { Bus } from '#bus';
import type { AuditConfig } from '#config';
import type { Logger } from '#observability';
import { BusAuditTrail } from './bus-audit-trail.js';
import { CallAudit, noCallAudit } from './call-audit.js';

/** The runner's call audit: records batched to auth over the bus, or nothing when `proxy.audit.enabled` is false. */
export function createCallAudit(bus: Bus, config: AuditConfig, log: Logger): CallAudit {
  return config.enabled ? new CallAudit(config, new BusAuditTrail(bus, log)) : noCallAudit;
}
