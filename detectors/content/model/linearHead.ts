/**
 * A logistic-regression head over hashed features: one weight per bucket and a bias. The class head folds the same
 * buckets into a smaller table (the low bits of a bucket), since naming the attack needs less capacity than finding it.
 */
import type { NamedFeature, SparseVector } from './textFeatures.js';

/** The logistic function, clamped so exp never overflows. */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-Math.max(-40, Math.min(40, z))));
}

/** w·x over the buckets of `x` folded into `weights.length` buckets (a power of two). */
export function dot(weights: Float32Array, x: SparseVector): number {
  const mask = weights.length - 1;
  const { indices, values } = x;
  let sum = 0;
  for (let j = 0; j < indices.length; j++) sum += (weights[(indices[j] as number) & mask] as number) * (values[j] as number);
  return sum;
}

/** int8 codes and the scale that maps them back (code * scale): how the artifact stores a head. */
export function quantize(weights: Float32Array): { codes: Int8Array; scale: number } {
  let max = 0;
  for (const w of weights) max = Math.max(max, Math.abs(w));
  const scale = max === 0 ? 1 : max / 127;
  const codes = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) codes[i] = Math.round((weights[i] as number) / scale);
  return { codes, scale };
}

/**
 * A head as scoring reads it: int8 codes are a quarter of the float table, so the random reads of a dot product
 * stay in cache (scoring speed is a goal; the values are the artifact's, so the score is the same).
 */
export interface QuantizedHead {
  codes: Int8Array;
  scale: number;
  bias: number;
}

/** The quantized form of a head whose weights already hold artifact values. */
export function quantizedHead(head: LinearHead): QuantizedHead {
  return { ...quantize(head.weights), bias: head.bias };
}

/** The probability a quantized head gives `x`. */
export function quantizedScore(head: QuantizedHead, x: SparseVector): number {
  const { codes } = head;
  const mask = codes.length - 1;
  const { indices, values } = x;
  let sum = 0;
  for (let j = 0; j < indices.length; j++) sum += (codes[(indices[j] as number) & mask] as number) * (values[j] as number);
  return sigmoid(sum * head.scale + head.bias);
}

/** A binary head: P(malicious | x). */
export interface LinearHead {
  weights: Float32Array;
  bias: number;
}

/** The probability the head gives `x`. */
export function headScore(head: LinearHead, x: SparseVector): number {
  return sigmoid(dot(head.weights, x) + head.bias);
}

/** A feature that pushed a score up, with its weight. */
export interface Contribution {
  feature: string;
  weight: number;
  start: number;
  end: number;
}

/**
 * The readable features with the largest positive weights in `head`, strongest first, one per name. Character grams
 * are not named: a word or bigram that carries the same evidence is more useful to an analyst.
 */
export function topContributions(head: LinearHead, features: readonly NamedFeature[], limit: number): Contribution[] {
  const mask = head.weights.length - 1;
  const best = new Map<string, Contribution>();
  for (const f of features) {
    const weight = head.weights[f.bucket & mask] as number;
    if (weight <= 0 || best.has(f.name)) continue;
    best.set(f.name, { feature: f.name, weight: Math.round(weight * 1000) / 1000, start: f.start, end: f.end });
  }
  return [...best.values()].sort((a, b) => b.weight - a.weight || a.start - b.start).slice(0, limit);
}

/** Softmax over per-class heads: the index of the most likely class and its probability. */
export function bestClass(heads: readonly LinearHead[], x: SparseVector): { index: number; probability: number } {
  const logits = heads.map((h) => dot(h.weights, x) + h.bias);
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const total = exps.reduce((a, b) => a + b, 0);
  let index = 0;
  for (let k = 1; k < exps.length; k++) if ((exps[k] as number) > (exps[index] as number)) index = k;
  return { index, probability: (exps[index] as number) / total };
}
