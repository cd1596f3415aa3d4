// Polling for live pages: `tick` runs, then again after the delay it returns
// (null stops it). Nothing runs while the tab is hidden; showing the tab
// again ticks at once. A tick never overlaps the previous one.

/** Starts polling; the returned function stops it (call it when the page is left). */
export function poll(tick: () => Promise<number | null>, first = 0): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let busy = false;
  let waiting = false;

  async function run() {
    timer = undefined;
    if (stopped) return;
    if (document.hidden) {
      waiting = true;
      return;
    }
    busy = true;
    let next: number | null = null;
    try {
      next = await tick();
    } catch {
      // A failed tick (the server restarting, a network blip) tries again later.
      next = 5000;
    } finally {
      busy = false;
    }
    if (!stopped && next !== null) timer = setTimeout(run, next);
  }

  function visible() {
    if (!document.hidden && waiting && !busy && !stopped) {
      waiting = false;
      run();
    }
  }

  document.addEventListener("visibilitychange", visible);
  timer = setTimeout(run, first);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    document.removeEventListener("visibilitychange", visible);
  };
}
