/**
 * Tests that need something the checkout does not hold (the spec suite beside it, a
 * program installed on the machine) never pass without running: when the thing is
 * missing they are registered with uvu's `skip`, so the summary counts them under
 * "Skipped", and one line says what is missing and where it was looked for.
 * With `WASMIG_REQUIRE_TEST_DATA=1` a missing requirement fails instead (for runs that
 * must prove the whole suite ran).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Callback, Test } from 'uvu';
import { repoRoot } from './cli.ts';

/** The official spec suite (wast2json output), kept beside the checkout as `npm run spec` expects. */
export const SPEC_SUITE_DIR = resolve(repoRoot, '..', 'shared', 'spec-tests', 'wasm-2.0');

/**
 * Something a group of tests needs. The check runs once, when the first test that needs
 * it is registered; the line about a missing requirement is printed once per process.
 */
export class TestRequirement {
  private found: boolean | undefined;
  private reported = false;

  /**
   * @param what what the tests need, as the skip line names it ("the spec suite")
   * @param where where it was looked for, or how to get it
   * @param isPresent whether it is there (checked lazily, once)
   */
  constructor(
    private readonly what: string,
    private readonly where: string,
    private readonly isPresent: () => boolean,
  ) {}

  /** A requirement met when `path` exists. */
  static path(what: string, path: string): TestRequirement {
    return new TestRequirement(what, path, () => existsSync(path));
  }

  /** Whether it is there. */
  get available(): boolean {
    this.found ??= this.isPresent();
    return this.found;
  }

  /**
   * Registers `fn` as test `name` of `suite` when the requirement is met; otherwise as a
   * skipped test (or, under WASMIG_REQUIRE_TEST_DATA=1, as a test that fails saying what is missing).
   */
  register<T>(suite: Test<T>, name: string, fn: Callback<T>): void {
    if (this.available) {
      suite(name, fn);
      return;
    }
    const missing = `${this.what} is missing (${this.where})`;
    if (process.env['WASMIG_REQUIRE_TEST_DATA'] === '1') {
      suite(name, () => {
        throw new Error(`${missing}; WASMIG_REQUIRE_TEST_DATA=1 makes this a failure`);
      });
      return;
    }
    if (!this.reported) {
      this.reported = true;
      console.log(`\n  SKIPPED: ${missing}: the tests that need it did not run (counted under "Skipped")`);
    }
    suite.skip(name, fn);
  }
}

/** The spec suite beside the checkout. */
export const specSuite = TestRequirement.path('the spec suite', SPEC_SUITE_DIR);
