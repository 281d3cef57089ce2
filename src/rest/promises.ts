/**
 * Hooks that may answer with or without a promise (policies, permissions, validation hooks): the
 * one test callers use to await only what needs awaiting, and the helpers built on it.
 */

/** Whether a hook's answer is a promise (any thenable), to be awaited; anything else is the answer itself. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null | undefined)?.then === 'function';
}

/** `next(value)` once `value` settles: at once when it is not a promise, so answers that need no I/O add no tick. */
export function andThen<T, R>(value: T | PromiseLike<T>, next: (value: T) => R | PromiseLike<R>): R | Promise<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : (next(value) as R | Promise<R>);
}

/** The item a search stopped at, and its answer. */
export interface Found<T, A> {
  item: T;
  answer: A;
}

/**
 * Asks each item in turn (`ask`) until an answer `stops` the search, awaiting only the answers that
 * are promises: the first such item and its answer, or `undefined`, at once when no answer needed I/O.
 */
export function firstWhere<T, A>(
  items: readonly T[],
  ask: (item: T) => A | PromiseLike<A>,
  stops: (answer: A) => boolean,
  start = 0,
): Found<T, A> | undefined | Promise<Found<T, A> | undefined> {
  for (let i = start; i < items.length; i++) {
    const item = items[i]!;
    const answer = ask(item);
    if (isPromiseLike(answer)) return Promise.resolve(answer).then((a) => (stops(a) ? { item, answer: a } : firstWhere(items, ask, stops, i + 1)));
    if (stops(answer)) return { item, answer };
  }
  return undefined;
}
