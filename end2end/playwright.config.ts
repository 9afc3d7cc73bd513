import { defineConfig, devices } from '@playwright/test';
import * as path from 'path';

// The server under test: scripts/test.sh starts the real binary on a free port and exports CATALYST_URL.
const baseURL = process.env.CATALYST_URL ?? 'http://127.0.0.1:3000';

// The superadmin's saved session (written by the setup project).
const ADMIN_STATE = path.resolve(__dirname, '.auth/admin.json');

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
  // Room for hydrated()'s 45 s guard on a busy machine (see fixtures.ts); passing tests take far less.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: { baseURL, launchOptions, trace: 'retain-on-failure', screenshot: 'only-on-failure' },
  projects: [
    {
      // Signs in once (the seeded superadmin, and a viewer it invites) and saves the sessions the other
      // projects start from; see STATE in tests/fixtures.ts.
      name: 'setup',
      testMatch: /.*\.setup\.ts/,
      use: { ...devices['Desktop Chrome'], viewport: { width: 1280, height: 800 }, launchOptions },
    },
    {
      // Progressive enhancement: what the server sends must stand on its own.
      name: 'nojs',
      testMatch: /.*\.nojs\.spec\.ts/,
      use: { ...devices['Desktop Chrome'], javaScriptEnabled: false, launchOptions, storageState: ADMIN_STATE },
      dependencies: ['setup'],
    },
    {
      name: 'desktop',
      testMatch: /.*\.hydrate\.spec\.ts/,
      use: { ...devices['Desktop Chrome'], viewport: { width: 1280, height: 800 }, launchOptions, storageState: ADMIN_STATE },
      dependencies: ['setup'],
    },
    {
      name: 'mobile',
      testMatch: /.*\.mobile\.spec\.ts/,
      use: { ...devices['Pixel 7'], viewport: { width: 390, height: 844 }, launchOptions, storageState: ADMIN_STATE },
      dependencies: ['setup'],
    },
  ],
});
