/**
 * The demo host's transport closes a child the way a patient host does: it ends the child's input and waits for the
 * child to exit on its own. A `tapwire tap` on a busy machine needs that time to record or hand off its session; the
 * SDK's StdioClientTransport would send it SIGTERM after 2 s and SIGKILL after 4 s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { PatientStdioTransport } from '../../cli/demo/patientStdioTransport.js';
import { tempHome } from '../support/tapwireCli.js';

/**
 * Echoes its input's lines; once its input ends, it works for longer than the SDK's whole close sequence (4 s) before
 * it exits, and logs every SIGTERM it gets (instead of dying of it).
 */
const SLOW_TO_EXIT = `
const { appendFileSync } = require('node:fs');
const log = process.argv[1];
process.on('SIGTERM', () => appendFileSync(log, 'SIGTERM\\n'));
process.stdin.on('data', (chunk) => process.stdout.write(chunk));
process.stdin.on('end', () => setTimeout(() => { appendFileSync(log, 'finished its work\\n'); process.exit(0); }, 5000));
`;

describe('PatientStdioTransport (the demo host)', () => {
  const { home, remove } = tempHome('tapwire-patient-close-');
  afterAll(remove);

  it('carries messages both ways, and on close waits for the child to finish and exit without signalling it', async () => {
    const log = join(home, 'child.log');
    const transport = new PatientStdioTransport(process.execPath, ['-e', SLOW_TO_EXIT, log]);
    const received: JSONRPCMessage[] = [];
    let closed = false;
    transport.onclose = () => (closed = true);
    await transport.start();
    const ping: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const echoed = new Promise<void>((resolve) => {
      transport.onmessage = (message) => {
        received.push(message);
        resolve();
      };
    });
    await transport.send(ping);
    await echoed;
    expect(received).toEqual([ping]);

    await transport.close();
    expect(closed).toBe(true);
    expect(readFileSync(log, 'utf8')).toBe('finished its work\n');
  });
});
