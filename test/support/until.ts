/**
 * Polls a condition until it holds, for tests of asynchronous pipelines; fails with what it waited for. The bound only
 * ends a test that is stuck: it is generous, because a worker starting on a saturated machine takes tens of seconds.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
