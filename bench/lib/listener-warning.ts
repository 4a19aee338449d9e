/**
 * The SDK's HTTP client adds an abort listener per request to one long-lived signal (see the
 * notes), and Node warns once per request past 1,500: said once through `say` instead of
 * thousands of times. Other warnings are written as they come.
 */
export function quietListenerWarnings(say: (line: string) => void): void {
  process.removeAllListeners('warning');
  let warned = false;
  process.on('warning', (warning) => {
    if (warning.name !== 'MaxListenersExceededWarning') return void process.stderr.write(`${warning.name}: ${warning.message}\n`);
    if (!warned) say(`warning (once): ${warning.message}`);
    warned = true;
  });
}
