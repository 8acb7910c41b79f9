/**
 * The model's file: gzip of a small JSON header (version, hashing width, classes, thresholds, biases, weight scales,
 * training summary) followed by every weight table as int8 (one scale per table). Quantizing to int8 keeps the
 * shipped file around a megabyte and loading it under a second; training quantizes the same way before choosing
 * thresholds, so the thresholds hold for the weights as shipped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { packageRoot } from '../../../pipeline/packagePaths.js';
import { ContentModel, type ContentHead, type ContentModelParts, type ScoredHead } from './contentModel.js';
import { quantize, type LinearHead } from './linearHead.js';

const FORMAT = 'tapwire-content-model/1';
const MAGIC = 'TWCM';

/** Where the shipped model lives, relative to the package root. */
export const SHIPPED_MODEL_PATH = join('detectors', 'content', 'model', 'artifact', 'content-model.twcm');

interface TableHeader {
  length: number;
  scale: number;
  bias: number;
}

interface ArtifactHeader {
  format: string;
  version: string;
  bits: number;
  classes: Record<ContentHead, string[]>;
  heads: Record<ContentHead, TableHeader & { threshold: number; huntThreshold: number }>;
  classHeads: Record<ContentHead, TableHeader[]>;
  window: ContentModelParts['window'];
  training: Record<string, unknown>;
}

/** Rounds `weights` in place to what the artifact will hold. */
export function roundToArtifact(weights: Float32Array): void {
  const { codes, scale } = quantize(weights);
  for (let i = 0; i < weights.length; i++) weights[i] = (codes[i] as number) * scale;
}

/** The artifact bytes of a model. */
export function encodeModel(parts: ContentModelParts): Buffer {
  const tables: Int8Array[] = [];
  const table = (head: LinearHead): TableHeader => {
    const { codes, scale } = quantize(head.weights);
    tables.push(codes);
    return { length: codes.length, scale, bias: head.bias };
  };
  const scored = (head: ScoredHead): ArtifactHeader['heads'][ContentHead] => ({ ...table(head), threshold: head.threshold, huntThreshold: head.huntThreshold });
  const header: ArtifactHeader = {
    format: FORMAT,
    version: parts.version,
    bits: parts.bits,
    classes: { documentation: [...parts.classes.documentation], content: [...parts.classes.content] },
    heads: { documentation: scored(parts.heads.documentation), content: scored(parts.heads.content) },
    classHeads: { documentation: parts.classHeads.documentation.map(table), content: parts.classHeads.content.map(table) },
    window: parts.window,
    training: parts.training,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 4);
  return gzipSync(Buffer.concat([prefix, json, ...tables.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]), { level: 9 });
}

/** The model in artifact bytes; `origin` names the file in errors. */
export function decodeModel(bytes: Buffer, origin: string): ContentModel {
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes);
  } catch (error) {
    throw new Error(`${origin}: not a Tapwire content model (${(error as Error).message})`);
  }
  if (raw.length < 8 || raw.toString('latin1', 0, 4) !== MAGIC) throw new Error(`${origin}: not a Tapwire content model (bad magic)`);
  const headerLength = raw.readUInt32LE(4);
  const header = JSON.parse(raw.toString('utf8', 8, 8 + headerLength)) as ArtifactHeader;
  if (header.format !== FORMAT) throw new Error(`${origin}: format '${header.format}' is not ${FORMAT}`);
  let at = 8 + headerLength;
  const read = (t: TableHeader): LinearHead => {
    if (at + t.length > raw.length) throw new Error(`${origin}: truncated weight table`);
    const codes = new Int8Array(raw.buffer, raw.byteOffset + at, t.length);
    at += t.length;
    const weights = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) weights[i] = (codes[i] as number) * t.scale;
    return { weights, bias: t.bias };
  };
  const scored = (h: ArtifactHeader['heads'][ContentHead]): ScoredHead => ({ ...read(h), threshold: h.threshold, huntThreshold: h.huntThreshold });
  const documentation = scored(header.heads.documentation);
  const content = scored(header.heads.content);
  const classHeads = { documentation: header.classHeads.documentation.map(read), content: header.classHeads.content.map(read) };
  return new ContentModel({
    version: header.version,
    bits: header.bits,
    heads: { documentation, content },
    classes: header.classes,
    classHeads,
    window: header.window,
    training: header.training,
  });
}

/** Writes a model's artifact to `path`. */
export function writeModel(path: string, parts: ContentModelParts): void {
  writeFileSync(path, encodeModel(parts));
}

/** Reads a model artifact. */
export function readModel(path: string): ContentModel {
  return decodeModel(readFileSync(path), path);
}

let shipped: ContentModel | undefined;

/** The model shipped with Tapwire, loaded once per process. */
export function shippedModel(): ContentModel {
  shipped ??= readModel(join(packageRoot(), SHIPPED_MODEL_PATH));
  return shipped;
}
