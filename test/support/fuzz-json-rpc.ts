import fc from 'fast-check';
import { sometimes } from './fuzz-arbitraries.js';

/** The protocol revisions clients send, and a few they must not. */
export const PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'] as const;
export const protocolVersion = fc.oneof(
  { arbitrary: fc.constantFrom(...PROTOCOL_VERSIONS), weight: 12 },
  { arbitrary: fc.constantFrom('2026-07-28', '1999-01-01', '', 'latest', '2025-06-18, 2025-03-26'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);

/**
 * server-everything's tools that answer at once without asking the client anything (sampling,
 * elicitation and roots tools exist only for clients that declare those capabilities, which the
 * fuzzer's sessions do not; the long-running one takes its time by design).
 */
const TOOLS = [
  'echo',
  'get-annotated-message',
  'get-env',
  'get-resource-links',
  'get-resource-reference',
  'get-structured-content',
  'get-sum',
  'get-tiny-image',
  'toggle-simulated-logging',
  'toggle-subscriber-updates',
  'trigger-sampling-request',
  'get-roots-list',
];

/** Ids as JSON-RPC allows them and as it does not: huge, fractional, long strings, objects. */
export const requestId = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 1000 }), weight: 12 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 4 },
  {
    arbitrary: fc.constantFrom<unknown>(2 ** 53, 2 ** 64, -(2 ** 63), 1e308, -1, 0.5, 'x'.repeat(10_000), null, true, { id: 1 }, [1]),
    weight: 2,
  },
);

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const params = fc.oneof(
  { arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 4 }), weight: 4 },
  { arbitrary: jsonValue, weight: 1 },
);
const progressMeta = fc.record({ progressToken: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })) }, { requiredKeys: [] });

const initialize = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: requestId,
  method: fc.constant('initialize'),
  params: fc.oneof(
    {
      arbitrary: fc.record({
        protocolVersion,
        capabilities: fc.oneof(fc.constant({}), fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 3 })),
        clientInfo: fc.record({ name: fc.string({ maxLength: 20 }), version: fc.string({ maxLength: 8 }) }),
      }),
      weight: 5,
    },
    { arbitrary: params, weight: 1 },
  ),
});

const toolCall = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: requestId,
  method: fc.constant('tools/call'),
  params: fc.record(
    {
      name: fc.oneof({ arbitrary: fc.constantFrom(...TOOLS), weight: 4 }, { arbitrary: fc.string({ maxLength: 30 }), weight: 1 }),
      arguments: fc.oneof(
        fc.record({ message: fc.string({ maxLength: 200 }) }),
        fc.record({ a: fc.double(), b: fc.oneof(fc.double(), fc.string()) }),
        fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 3 }),
        jsonValue,
      ),
      _meta: progressMeta,
    },
    { requiredKeys: ['name'] },
  ),
});

const METHODS = [
  'ping',
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/list',
  'sampling/createMessage',
];
const request = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: requestId,
  method: fc.oneof({ arbitrary: fc.constantFrom(...METHODS), weight: 4 }, { arbitrary: fc.string({ maxLength: 30 }), weight: 1 }),
  params: fc.oneof(
    params,
    fc.record({ uri: fc.oneof(fc.constant('demo://resource/static/document/architecture.md'), fc.webUrl(), fc.string()) }),
    fc.record({ level: fc.constantFrom('debug', 'info', 'error', 'emergency', 'loud') }),
    fc.record({ name: fc.constantFrom('simple-prompt', 'args-prompt', 'completable-prompt', 'nope'), arguments: params }),
  ),
});

const NOTIFICATIONS = [
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message',
];
const notification = fc.record(
  {
    jsonrpc: fc.constant('2.0'),
    method: fc.oneof({ arbitrary: fc.constantFrom(...NOTIFICATIONS), weight: 4 }, { arbitrary: fc.string({ maxLength: 30 }), weight: 1 }),
    params: fc.oneof(
      params,
      fc.record({ requestId, reason: fc.string({ maxLength: 20 }) }),
      fc.record({ progressToken: requestId, progress: fc.double(), total: fc.double() }),
    ),
  },
  { requiredKeys: ['jsonrpc', 'method'] },
);

/** Answers to requests the server never sent (or did: a sampling answer the runner must route). */
const response = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: requestId, result: params }),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id: requestId,
    error: fc.record({ code: fc.integer(), message: fc.string({ maxLength: 20 }), data: jsonValue }, { requiredKeys: ['code', 'message'] }),
  }),
);

/** A message an MCP client could send. */
export const validLookingMessage: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { arbitrary: initialize, weight: 1 },
  { arbitrary: toolCall, weight: 4 },
  { arbitrary: request, weight: 4 },
  { arbitrary: notification, weight: 2 },
  { arbitrary: response, weight: 1 },
);

/** A message with one member dropped, retyped or added: what a buggy or hostile client sends. */
const mutatedMessage = fc
  .tuple(validLookingMessage, fc.constantFrom('drop', 'retype', 'add'), fc.nat(), jsonValue, fc.string({ maxLength: 10 }))
  .map(([message, how, pick, value, name]) => {
    const keys = Object.keys(message);
    const key = keys[pick % keys.length] ?? 'jsonrpc';
    if (how === 'drop') return Object.fromEntries(Object.entries(message).filter(([k]) => k !== key));
    return { ...message, [how === 'retype' ? key : name]: value };
  });

export const message = fc.oneof({ arbitrary: validLookingMessage, weight: 5 }, { arbitrary: mutatedMessage, weight: 1 });

/** A payload nested `depth` levels deep in params, or on its own: up to 10,000 levels. */
const deepNesting = fc
  .tuple(fc.constantFrom(10, 63, 64, 65, 100, 1000, 10_000), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, wrapped]) => {
    const close = open === '[' ? ']' : '}';
    const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
    return wrapped ? `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":${nested}}}` : nested;
  });

/** Bytes that are not UTF-8, inside otherwise valid JSON-RPC. */
const invalidUtf8 = fc
  .tuple(fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x00]), fc.boolean())
  .map(([bad, inMethod]) => {
    const [head, tail] = inMethod
      ? ['{"jsonrpc":"2.0","id":1,"method":"', '"}']
      : ['{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"', '"}}}'];
    return Uint8Array.from([...Buffer.from(head), ...bad, ...Buffer.from(tail)]);
  });

/** Streamable HTTP and legacy message bodies: JSON-RPC (single or batched) and everything that is not quite. */
export const mcpBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { arbitrary: message.map((m) => JSON.stringify(m)), weight: 12 },
  { arbitrary: fc.array(message, { maxLength: 4 }).map((batch) => JSON.stringify(batch)), weight: 3 },
  { arbitrary: deepNesting, weight: 1 },
  { arbitrary: invalidUtf8, weight: 1 },
  { arbitrary: message.chain((m) => fc.nat().map((cut) => JSON.stringify(m).slice(0, cut % 40))), weight: 1 },
  {
    arbitrary: fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    ),
    weight: 1,
  },
  { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
);

/**
 * Bodies at the size limits: over the default maxBodyBytes (4 MiB: 413), and an echo of 1.5 MB,
 * more than NATS carries by default (all-in-one carries 64 MiB).
 */
export const largeBody = fc.constantFrom(
  `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'x'.repeat(4 * 1024 * 1024)}"}}`,
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'y'.repeat(1_500_000) } } }),
);

/** Initialize as a client sends it, for the requests that must reach a backend. */
export const initializeBody = initialize.map((m) => JSON.stringify(m));

const STATELESS_METHODS = [
  'tools/list',
  'tools/call',
  'server/discover',
  'resources/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
];
const META_KEYS = {
  version: 'io.modelcontextprotocol/protocolVersion',
  info: 'io.modelcontextprotocol/clientInfo',
  capabilities: 'io.modelcontextprotocol/clientCapabilities',
};

/** `_meta` of a 2026-07-28 request: usually complete, sometimes missing or wrongly typed fields. */
const statelessMeta = fc.record(
  {
    [META_KEYS.version]: fc.oneof({ arbitrary: fc.constant('2026-07-28'), weight: 12 }, { arbitrary: protocolVersion, weight: 1 }),
    [META_KEYS.info]: fc.oneof({ arbitrary: fc.constant({ name: 'fuzz', version: '1' }), weight: 8 }, { arbitrary: jsonValue, weight: 1 }),
    [META_KEYS.capabilities]: fc.oneof(
      { arbitrary: fc.constantFrom({}, { elicitation: { form: {} } }, { sampling: {}, roots: {} }), weight: 8 },
      { arbitrary: jsonValue, weight: 1 },
    ),
    progressToken: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
  },
  { requiredKeys: [] },
);

/** A requestState as a client may send one: forged in Gatehouse's own shape, or anything. */
const requestState = fc.oneof(
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    )
    .map((parts) => `gh1.${parts.join('.')}`),
  fc.string({ maxLength: 80 }),
  jsonValue,
);

/** A 2026-07-28 request (one per POST) with the name its Mcp-Name header should mirror. */
export const statelessRequest = fc
  .record(
    {
      id: requestId,
      method: fc.oneof(
        { arbitrary: fc.constantFrom(...STATELESS_METHODS), weight: 10 },
        { arbitrary: fc.constantFrom('initialize', 'ping', 'subscriptions/listen', 'x/y'), weight: 1 },
      ),
      name: fc.oneof(
        { arbitrary: fc.constantFrom(...TOOLS, 'demo://resource/static/document/architecture.md', 'simple-prompt'), weight: 6 },
        { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
      ),
      meta: statelessMeta,
      requestState: sometimes(requestState, 4),
      inputResponses: sometimes(fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 3 }), 4),
      notification: sometimes(fc.constant(true), 12),
    },
    { requiredKeys: ['id', 'method', 'name', 'meta'] },
  )
  .map(({ id, method, name, meta, requestState, inputResponses, notification }) => {
    const target = method === 'resources/read' ? { uri: name } : { name, arguments: { message: 'fuzz' } };
    const params = {
      ...target,
      _meta: meta,
      ...(requestState !== undefined && { requestState }),
      ...(inputResponses && { inputResponses }),
    };
    const message = { jsonrpc: '2.0', ...(notification ? {} : { id }), method, params };
    return { method, name, body: JSON.stringify(message) };
  });
