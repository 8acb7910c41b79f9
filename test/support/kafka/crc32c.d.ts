/** kafkajs's own CRC-32C (Castagnoli) implementation, which its record batch encoder uses; it has no typings of its own. */
declare module 'kafkajs/src/protocol/recordBatch/crc32C/index.js' {
  /** The unsigned CRC-32C of `buffer`. */
  export default function crc32C(buffer: Buffer): number;
}
