/**
 * The bounds tests of real processes wait within, and the home `tapwire demo` fills. Every wait is for a condition; a
 * bound only ends a test that would otherwise hang, so it is generous: with the cores saturated, a demo run, a CLI
 * command or a Chromium step takes many times what it takes on a quiet machine.
 */
import { expect } from 'vitest';
import { runCli, type CliResult } from './tapwireCli.js';

/** The bound of one wait: a page element, a log line, a CLI command, Chromium's launch. */
export const WAIT_MS = 120_000;
/** The bound of one `tapwire demo` run (three servers behind taps, then the detectors). */
export const DEMO_MS = 300_000;
/** The bound of a test made of several waits. */
export const TEST_MS = 4 * WAIT_MS;

/** Runs `tapwire demo` into `home` (real servers behind real taps, then the detectors); fails the test if it fails. */
export async function runDemo(home: string): Promise<CliResult> {
  const demo = await runCli(['demo', '--home', home], { timeoutMs: DEMO_MS });
  expect(demo.code, demo.stderr).toBe(0);
  return demo;
}
