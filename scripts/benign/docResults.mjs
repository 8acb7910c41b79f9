// Result records from documentation shipped inside the installed packages (see docChunks.mjs for why).
import { packageChunks } from './docChunks.mjs';
import { declaredLicense } from './launchServer.mjs';
import { resultRecord } from './records.mjs';

const CHUNKS_PER_PACKAGE = 6;

export function docResultRecords(installed) {
  const records = [];
  for (const one of installed) {
    const pkg = { name: one.json.name, version: one.json.version, license: declaredLicense(one.json) };
    for (const chunk of packageChunks(one, CHUNKS_PER_PACKAGE)) {
      records.push(resultRecord({
        pkg,
        toolName: null,
        text: chunk.text,
        locator: [chunk.file, String(chunk.chunkIndex)],
        meta: { kind: 'tool_result', origin: 'package-file', style: chunk.style, file: chunk.file, chunk: chunk.chunkIndex },
      }));
    }
  }
  return records;
}
