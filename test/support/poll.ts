/**
 * Reads until `ok` holds (real time, 100 ms apart), then returns the last read
 * either way, so the test's own assertion says what was wrong. For what follows
 * an answer a moment later: the read model, effects run by activities.
 */
export async function pollUntil<T>(read: () => Promise<T>, ok: (v: T) => boolean, tries = 100): Promise<T> {
  let v = await read();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}
