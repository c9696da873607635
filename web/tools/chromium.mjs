// Launches Debian's Chromium headless through playwright-core, with the flags
// that give WebGL2 (SwiftShader, EXT_color_buffer_float) on a machine without
// a GPU. Never downloads a browser: CHROMIUM (default /usr/bin/chromium) must exist.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  // Timers of a page that is not visible are throttled; a headless page is never visible.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  // getUserMedia gets Chromium's synthetic camera, without a prompt (the demo's webcam).
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
];

// `extraArgs`: more flags for this launch (the load test adds --js-flags=--expose-gc).
export async function launchChromium({ extraArgs = [] } = {}) {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} not found: apt-get install chromium (or set CHROMIUM)`);
  }
  // playwright-core makes (and removes) a fresh temporary profile for the launch.
  const browser = await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
  return { browser, version: `Chromium ${browser.version()}` };
}
