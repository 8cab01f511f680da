// Development aid, not a test: runs the browser steps of admin.test.mjs
// (admin-steps.mjs) against the mock gateway, to catch a wrong selector
// before the real gateway has the API. Video steps are not covered.
//
//   (cd web && npm run build) && node tests/e2e/mock/check-admin-steps.mjs

import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../harness.mjs';
import { adminCreatesViewer, signIn, totpFlow, viewerSeesOnlyGroup } from '../admin-steps.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = process.env.WR_MOCK_SHOTS || '/tmp/wr-mock-admin-steps';
const server = spawn(process.execPath, [path.join(here, 'server.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, MOCK_SEED: 'minimal', MOCK_ADMIN_PASSWORD: 'admin-pass' },
});
const base = await new Promise((resolve) => {
  server.stdout.on('data', (c) => {
    const m = /on (http:\/\/\S+)/.exec(c.toString());
    if (m) resolve(m[1]);
  });
});
await fsp.mkdir(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: CHROMIUM_ARGS, env: { ...process.env, DISPLAY: '' } });
const problems = [];
try {
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  const ctx = {
    base,
    viewerPassword: 'vera-password-1',
    screenshot: (name) => page.screenshot({ path: path.join(OUT, name + '.png'), fullPage: true }),
  };
  await page.goto(base + '/');
  await signIn(page, 'admin', 'admin-pass');
  await page.locator('[data-agent="lab-agent"]').waitFor();
  await adminCreatesViewer(page, ctx);
  console.log('adminCreatesViewer: ok');
  await viewerSeesOnlyGroup(page, ctx);
  console.log('viewerSeesOnlyGroup: ok');
  await totpFlow(page, ctx);
  console.log('totpFlow: ok');
} finally {
  await browser.close();
  server.kill();
}
console.log(problems.length ? 'page errors:\n' + problems.join('\n') : 'no page errors');
