// Server-Sent Events read from a fetch body, per the HTML standard's parsing rules: fields
// `id`, `event`, `data` (lines joined), `retry`; comments (heartbeats) skipped.

export interface ServerSentEvent {
  /** The stream's last event id so far (ids carry over to events that name none). */
  id: string | undefined;
  event: string;
  data: string;
  /** A reconnection delay the server asked for, in ms. */
  retry?: number;
}

/** The events of a `text/event-stream` body; cancelling the loop closes the body. */
export async function* eventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  let retry: number | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return; // an event not ended by a blank line is dropped, as the standard says
      pending += decoder.decode(value, { stream: true });
      // a chunk may end between the \r and \n of one line end: that line waits for the next chunk
      const held = pending.endsWith('\r');
      const lines = (held ? pending.slice(0, -1) : pending).split(/\r\n|\r|\n/);
      pending = `${lines.pop()}${held ? '\r' : ''}`;
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n'), retry };
          event = '';
          data = [];
          retry = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
