/** Message header names; correlation id, user id and trace context travel in every message. */
export const Headers = {
  correlationId: 'gh-correlation-id',
  userId: 'gh-sub',
  traceparent: 'traceparent',
} as const;
