import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PatientStdioTransport } from '../../cli/demo/patientStdioTransport.js';
import { recoverHandoffs } from '../../collectors/stdio/handoffRecovery.js';
import type { KafkaSettings } from '../../pipeline/config.js';
import { KafkaBus } from '../../pipeline/kafka/kafkaBus.js';
import { REPO_ROOT, requireBuiltCli } from './tapwireCli.js';

/**
 * An SDK client on one of the demo's servers (cli/demo/<module>) behind a real `tapwire tap --config` process. Its
 * close() ends the tap's input and waits for the tap to exit (the demo's patient transport): what the tap could not
 * record by then it has handed off, for recordHandoffs.
 */
export async function tappedDemoClient(options: { home: string; config: string; name: string; module: string; stderr: string[]; clientName: string }): Promise<Client> {
  const client = new Client({ name: options.clientName, version: '1.0.0' });
  const args = [requireBuiltCli(), 'tap', '--name', options.name, '--home', options.home, '--config', options.config, '--', process.execPath, join(REPO_ROOT, 'dist', 'cli', 'demo', options.module)];
  await client.connect(new PatientStdioTransport(process.execPath, args, { onStderr: (chunk) => options.stderr.push(chunk.toString()) }));
  return client;
}

/**
 * Records the sessions the home's exited taps handed off, through the fleet's Kafka bus, as the host's next tapwire
 * command would: on a saturated machine a tap often cannot record its whole session before it must exit.
 */
export async function recordHandoffs(home: string, kafka: KafkaSettings): Promise<void> {
  const bus = new KafkaBus(kafka, { role: 'collector' });
  try {
    await recoverHandoffs({ publish: (topic, records) => bus.publish(topic, records), close: () => bus.close(), spoolDepth: () => 0 }, { home, warn: (message) => process.stderr.write(`${message}\n`) });
  } finally {
    await bus.close();
  }
}
