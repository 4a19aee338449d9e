export * from './bus.port.js';
export { BusClosedError, BusConnectError, BusInvalidArgumentError, BusPayloadTooLargeError, type BusErrorListener } from './bus-errors.js';
export { DEFAULT_MAX_PAYLOAD_BYTES, MIN_KV_TTL_MS } from './bus-arguments.js';
export { LocalBus, type LocalBusOptions } from './local-bus.js';
export { NatsBus, type NatsBusOptions } from './nats-bus.js';
export { BUS_TRANSPORT, BusContext, BusTransport, FAILED_REPLY, type BusTransportOptions } from './bus-transport.strategy.js';
export { MeteredBus, type BusRequestObserver, type BusRequestOutcome } from './metered-bus.js';
export { TracedBus, type BusTraceContext } from './traced-bus.js';
