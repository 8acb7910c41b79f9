/**
 * Trains the model's heads: L2-regularized logistic regression (binary) and multinomial regression (class head) over
 * sparse hashed vectors, by AdaGrad over a fixed number of passes. Example order comes from a seeded generator and
 * the arithmetic is sequential, so the same data and seed give the same weights on every machine.
 */
import { dot, sigmoid, type LinearHead } from '../linearHead.js';
import type { SparseVector } from '../textFeatures.js';

export interface TrainingOptions {
  bits: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

export interface Example {
  x: SparseVector;
  /** 1 malicious, 0 benign (binary); class index (class head). */
  y: number;
  weight: number;
}

/** mulberry32: a small seeded generator, enough for shuffling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(n: number, random: () => number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** Example weights that give each label the same total weight. */
export function balancedWeights(labels: readonly number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const y of labels) counts[y] = (counts[y] as number) + 1;
  const present = counts.filter((c) => c > 0).length;
  return labels.map((y) => labels.length / (present * (counts[y] as number)));
}

const EPSILON = 1e-8;

/** One AdaGrad step on the buckets of `x` for a gradient `g` of the logit. */
function step(head: LinearHead, squares: Float32Array, biasSquare: { value: number }, x: SparseVector, g: number, o: TrainingOptions): void {
  const mask = head.weights.length - 1;
  const { indices, values } = x;
  for (let j = 0; j < indices.length; j++) {
    const k = (indices[j] as number) & mask;
    const w = head.weights[k] as number;
    const grad = g * (values[j] as number) + o.l2 * w;
    const s = (squares[k] as number) + grad * grad;
    squares[k] = s;
    head.weights[k] = w - (o.learningRate * grad) / Math.sqrt(s + EPSILON);
  }
  biasSquare.value += g * g;
  head.bias -= (o.learningRate * g) / Math.sqrt(biasSquare.value + EPSILON);
}

/** A binary head trained on `examples` (y in {0,1}). */
export function trainBinary(examples: readonly Example[], o: TrainingOptions): LinearHead {
  const head: LinearHead = { weights: new Float32Array(1 << o.bits), bias: 0 };
  const squares = new Float32Array(1 << o.bits);
  const biasSquare = { value: 0 };
  const random = seededRandom(o.seed);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (const i of shuffled(examples.length, random)) {
      const e = examples[i] as Example;
      const p = sigmoid(dot(head.weights, e.x) + head.bias);
      step(head, squares, biasSquare, e.x, (p - e.y) * e.weight, o);
    }
  }
  return head;
}

/** One head per class, trained jointly as a softmax on `examples` (y a class index). */
export function trainSoftmax(examples: readonly Example[], classes: number, o: TrainingOptions): LinearHead[] {
  const heads: LinearHead[] = Array.from({ length: classes }, () => ({ weights: new Float32Array(1 << o.bits), bias: 0 }));
  const squares = heads.map(() => new Float32Array(1 << o.bits));
  const biasSquares = heads.map(() => ({ value: 0 }));
  const random = seededRandom(o.seed);
  const logits = new Float64Array(classes);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (const i of shuffled(examples.length, random)) {
      const e = examples[i] as Example;
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < classes; k++) {
        const h = heads[k] as LinearHead;
        logits[k] = dot(h.weights, e.x) + h.bias;
        max = Math.max(max, logits[k] as number);
      }
      let total = 0;
      for (let k = 0; k < classes; k++) {
        logits[k] = Math.exp((logits[k] as number) - max);
        total += logits[k] as number;
      }
      for (let k = 0; k < classes; k++) {
        const p = (logits[k] as number) / total;
        step(heads[k] as LinearHead, squares[k] as Float32Array, biasSquares[k] as { value: number }, e.x, (p - (k === e.y ? 1 : 0)) * e.weight, o);
      }
    }
  }
  return heads;
}
