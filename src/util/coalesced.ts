/**
 * Wraps `work` so that at most one run is in flight and one waits behind it: every call made
 * while a run is in flight joins the waiting one, which starts after it (so it covers them).
 */
export function coalesced(work: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let waiting: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const current: Promise<void> = work().finally(() => {
      if (running === current) running = undefined;
    });
    running = current;
    return current;
  };
  return () => {
    if (waiting !== undefined) return waiting;
    if (running === undefined) return start();
    waiting = running.catch(() => undefined).then(() => {
      waiting = undefined;
      return start();
    });
    return waiting;
  };
}
