import { describe, expect, it } from 'vitest';
import { EventPublisher } from '../../collectors/eventPublisher.js';
import { LineFramer } from '../../collectors/stdio/lineFramer.js';
import { TestSession } from './fixtures.js';

describe('EventPublisher', () => {
  // The boundary that lost a stdio hand-off's last frame: one chunk of 1,500 lines framed in one synchronous step
  // fills a 1,000-event batch at its 1,000th line. The stdio observer hands its position over to the tap from its
  // publish function; a publish entered from inside enqueue() ran in the middle of the chunk, when the position
  // already counted all 1,500 lines but only 1,000 were events. Mutant killed: flushing a full batch synchronously
  // from enqueue() (the first publish then sees 1,000 lines framed, not 1,500).
  it('publishes a full batch only once the synchronous step that filled it has ended, never in its middle', async () => {
    const session = new TestSession();
    const framedAtPublish: number[] = [];
    const published: string[] = [];
    let framed = 0;
    const publisher = new EventPublisher((_, records) => {
      framedAtPublish.push(framed);
      published.push(...records.map((r) => r.value));
    });
    const framer = new LineFramer(
      {
        frame: (line, t) => {
          for (const event of session.normalizer.frame('client_to_server', line, t)) publisher.enqueue(event);
          framed++;
        },
        oversized: () => expect.unreachable('no line is oversized'),
      },
      1 << 20,
    );
    const chunk = Buffer.from(Array.from({ length: 1500 }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { n: i } } })}\n`).join(''));

    framer.push(chunk, 0);
    expect(framedAtPublish).toEqual([]);
    expect(await publisher.deliver(10_000)).toMatchObject({ published: 1500, dropped: 0, queued: 0 });
    expect(framedAtPublish[0]).toBe(1500);
    expect(published.map((json) => (JSON.parse(json) as { jsonrpc?: { request?: { id: string } } }).jsonrpc?.request?.id)).toEqual(Array.from({ length: 1500 }, (_, i) => String(i)));
  });
});
