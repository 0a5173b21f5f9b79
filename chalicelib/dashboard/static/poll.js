// Repeats `tick` every `every` ms (`hidden` ms while the tab is hidden); after a failure it backs off
// up to 30 s and recovers by itself. Returns stop(); `now()` on the handle runs a tick at once.
export function poll(tick, { every = 2000, hidden = 10000 } = {}) {
  let timer = null;
  let stopped = false;
  let failures = 0;
  let running = false;
  async function run() {
    if (stopped || running) return;
    running = true;
    clearTimeout(timer);
    try {
      await tick();
      failures = 0;
    } catch (err) {
      failures += 1; // a refused key too: the sign-in dialog's success resumes polling at once
    } finally {
      running = false;
    }
    if (stopped) return;
    const base = document.hidden ? hidden : every;
    const delay = failures ? Math.min(30000, base * 2 ** Math.min(failures, 4)) : base;
    timer = setTimeout(run, delay);
  }
  const onVisible = () => { if (!document.hidden) run(); };
  const onOnline = () => run();
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("online", onOnline);
  window.addEventListener("batchcall:signed-in", onOnline);
  run();
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("online", onOnline);
    window.removeEventListener("batchcall:signed-in", onOnline);
  };
  stop.now = run;
  return stop;
}
