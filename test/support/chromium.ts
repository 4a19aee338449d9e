import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, headless, through playwright-core (which gives it a fresh profile). The
 * networking flags keep it from calling home: this machine's network is closed, and each refused
 * connection costs time.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
