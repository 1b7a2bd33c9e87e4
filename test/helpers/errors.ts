// Catching the error a call must raise, and the rule every error a user sees follows: one line
// of a known class (the CLI prints it as `mek: <message>` and exits 2).
import { expect } from 'vitest';

// abstract, so classes with any constructor signature fit
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

// Both return the error as an Error: everything mek throws is one, and a test that expects a
// class checks it with expectOneLineError.

/** What `fn` throws; fails the test when it returns. */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to throw');
}

/** What `promise` rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

/** `err`, checked to be an `errorClass` whose message is one line. */
export function expectOneLineError<E extends Error>(err: unknown, errorClass: ErrorClass<E>): E {
  expect(err).toBeInstanceOf(errorClass);
  expect((err as Error).message).not.toContain('\n');
  return err as E;
}
