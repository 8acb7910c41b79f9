// Runs async jobs with bounded concurrency and returns their results in input order (deterministic output
// regardless of which server answers first).
export async function mapPool(items, concurrency, job) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
