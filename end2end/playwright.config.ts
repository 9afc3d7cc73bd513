import { defineConfig, devices } from '@playwright/test';

// The server under test: scripts/test.sh starts the real binary on a free port and exports CATALYST_URL.
const baseURL = process.env.CATALYST_URL ?? 'http://127.0.0.1:3000';

// Playwright's own browser download cannot work here: use the system Chromium.
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: { baseURL, launchOptions, trace: 'retain-on-failure', screenshot: 'only-on-failure' },
  projects: [
    {
      // Progressive enhancement: what the server sends must stand on its own.
      name: 'nojs',
      testMatch: /.*\.nojs\.spec\.ts/,
      use: { ...devices['Desktop Chrome'], javaScriptEnabled: false, launchOptions },
    },
    {
      name: 'desktop',
      testMatch: /.*\.hydrate\.spec\.ts/,
      use: { ...devices['Desktop Chrome'], viewport: { width: 1280, height: 800 }, launchOptions },
    },
    {
      name: 'mobile',
      testMatch: /.*\.mobile\.spec\.ts/,
      use: { ...devices['Pixel 7'], viewport: { width: 390, height: 844 }, launchOptions },
    },
  ],
});
