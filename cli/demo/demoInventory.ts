/**
 * The demo's approved-server inventory: the notes and weather servers, by the command that runs them. The third
 * demo server is deliberately missing, so the detectors call it unknown. Written into the demo's home, where a
 * reader can open it as an example of the inventory format.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

const DEMO_INVENTORY = {
  servers: [
    { name: 'notes', command: '*/demo/notesServer.js', reported_name: 'notes', version: '1.*' },
    { name: 'weather', command: '*/demo/weatherServer.js', reported_name: 'weather-forecast', version: '2.*' },
  ],
};

/** Writes the demo inventory into `home`; returns its path. */
export function writeDemoInventory(home: string): string {
  const file = join(home, 'inventory.yaml');
  writeFileSync(file, `# Approved MCP servers (tapwire detect --inventory ${file})\n${stringify(DEMO_INVENTORY)}`);
  return file;
}
