/**
 * Hooks that may answer with or without a promise (policies, permissions, validation hooks): the
 * one test callers use to await only what needs awaiting.
 */

/** Whether a hook's answer is a promise (any thenable), to be awaited; anything else is the answer itself. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null | undefined)?.then === 'function';
}

/** `next(value)` once `value` settles: at once when it is not a promise, so answers that need no I/O add no tick. */
export function andThen<T, R>(value: T | PromiseLike<T>, next: (value: T) => R | PromiseLike<R>): R | Promise<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : (next(value) as R | Promise<R>);
}
