/** One server-sent event as a client parses it. */
export interface SseEvent {
  id?: string;
  event?: string;
  retry?: string;
  data: string;
}

/** Reads SSE events from a response body until `enough` says so (then the body is cancelled) or it ends. */
export async function readEvents(
  body: ReadableStream<Uint8Array> | null,
  enough: (events: SseEvent[]) => boolean = () => false,
): Promise<SseEvent[]> {
  if (!body) throw new Error('the response has no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffered = '';
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return events;
    buffered += decoder.decode(chunk.value, { stream: true });
    const blocks = buffered.split('\n\n');
    buffered = blocks.pop() ?? '';
    for (const block of blocks) {
      const event = parseBlock(block);
      if (event) events.push(event);
    }
    if (enough(events)) {
      await reader.cancel();
      return events;
    }
  }
}

function parseBlock(block: string): SseEvent | undefined {
  const fields: Record<string, string> = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    fields[name] = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
  }
  if (Object.keys(fields).length === 0) return undefined;
  return { ...fields, data: fields.data ?? '' };
}

/** The JSON-RPC messages among `events`. */
export function messagesOf(events: readonly SseEvent[]): unknown[] {
  return events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data) as unknown);
}
