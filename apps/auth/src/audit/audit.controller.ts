import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BUS_TRANSPORT } from '#bus';
import { AckReplySchema, auditAppendQueue, auditAppendSubject, AuditAppendRequestSchema, decode, encode } from '#contracts';
import type { Logger } from '#observability';
import { AuditLog } from './audit-log.js';

export const AUDIT_LOG = Symbol('AuditLog');
export const AUDIT_LOGGER = Symbol('AuditLogger');

/** Runners' batches of audit records (gh.auth.audit.append): acknowledged once stored. */
@Controller()
export class AuditController {
  constructor(
    @Inject(AUDIT_LOG) private readonly audit: AuditLog,
    @Inject(AUDIT_LOGGER) private readonly log: Logger,
  ) {}

  @MessagePattern(auditAppendSubject, BUS_TRANSPORT, { queue: auditAppendQueue })
  async append(@Payload() data: Uint8Array): Promise<Uint8Array> {
    const request = decode(AuditAppendRequestSchema, data);
    if (!request.ok) {
      this.log.warn({ error: request.error }, 'malformed audit records');
      return encode(AckReplySchema, { ok: false, error: { code: 'BAD_REQUEST', message: request.error.slice(0, 500) } });
    }
    try {
      await this.audit.append(request.value.records);
      return encode(AckReplySchema, { ok: true });
    } catch (err) {
      this.log.error({ err, records: request.value.records.length }, 'storing audit records failed');
      return encode(AckReplySchema, { ok: false, error: { code: 'UNAVAILABLE', message: 'the audit records could not be stored' } });
    }
  }
}
