import { test, expect, snap, STATE } from './fixtures';
import { BAD_TOKEN, ED25519, ED25519_FINGERPRINT, GOOD_TOKEN, card as gridCard, credentials, next, saved, startOver } from './wizard';

test('a new user walks all 7 steps against the Hetzner stand-in', async ({ page }) => {
  test.setTimeout(90_000);
  await startOver(page);
  await expect(page).toHaveURL(/\/sovereign\/wizard\/organisation$/);
  await expect(page.getByTestId('wizard-progress')).toHaveText('Step 1 of 7 · Organisation · 14%');
  // The superadmin may create Sovereigns in every organisation; the seeded console has one.
  await expect(page.getByTestId('owner-org')).toContainText('Default');
  await snap(page, 'wizard-1-org-desktop');

  // Step 1: an empty name is refused inline, and Continue focuses it.
  const name = page.locator('#f-org-name');
  await name.fill('');
  await expect(page.getByTestId('error-org.name')).toHaveText("Enter your organisation's name.");
  await page.getByTestId('wizard-continue').click();
  await expect(name).toBeFocused();
  await expect(page).toHaveURL(/organisation$/);
  await name.fill('Globex Bank');
  await page.locator('#f-org-headquarters').fill('Helsinki, Finland');
  await page.getByRole('checkbox', { name: 'GDPR' }).check();
  await next(page, 'topology');

  // Step 2: SOLO with the HA control plane and the AIR-GAP add-on.
  await page.getByTestId('topology-solo').click();
  await expect(page.getByTestId('topology-solo').locator('input')).toBeChecked();
  await page.getByTestId('f-haEnabled').click();
  await page.getByTestId('f-airgap').click();
  await expect(page.getByTestId('f-airgap')).toBeChecked();
  await snap(page, 'wizard-2-topology-desktop');
  await next(page, 'provider');

  // Step 3: pre-selected from the HQ; other providers are visible but disabled.
  await expect(page.getByTestId('hq-hint')).toContainText('Pre-selected based on HQ: Helsinki, Finland');
  await expect(page.getByTestId('region-0')).toBeVisible();
  await expect(page.getByTestId('region-1')).toContainText('AIR-GAP');
  await expect(page.locator('#f-regions-0-cloudRegion')).toHaveValue('hel1');
  await expect(page.locator('#f-regions-0-provider option[value="aws"]')).toBeDisabled();
  await expect(page.locator('#f-regions-0-provider option[value="aws"]')).toContainText('not yet supported');
  await page.getByTestId('region-0').getByRole('button', { name: 'One worker more' }).click();
  await page.getByTestId('region-0').getByRole('button', { name: 'One worker more' }).click();
  await expect(page.locator('#f-regions-0-workerSize')).toBeVisible();
  await expect(page.getByTestId('cost-total')).toContainText('Estimated infrastructure cost across 2 region(s): €');
  await expect(page.getByTestId('cost-total')).toContainText('per month without VAT');
  await page.locator('#f-regions-0-workerCount').fill('51');
  await expect(page.getByTestId('error-regions[0].workerCount')).toContainText('between 0 and 50');
  await page.locator('#f-regions-0-workerCount').fill('2');
  // The default selection does not fit 3 control planes and 2 workers of 4 vCPU / 8 GB: the step says so
  // and proposes the cheapest worker set that fits; one click applies it.
  const fit = page.getByTestId('fit-0');
  await expect(fit).toHaveAttribute('data-status', 'fail');
  await expect(page.getByTestId('fit-sentence-0')).toContainText('do not fit on 5 nodes');
  const apply = page.getByTestId('fit-apply-0');
  const [, workers, size] = /Use (\d+) × (\S+)/.exec((await apply.textContent()) ?? '') ?? [];
  expect(Number(workers)).toBeGreaterThan(0);
  await apply.click();
  await expect(page.locator('#f-regions-0-workerCount')).toHaveValue(workers);
  await expect(page.locator('#f-regions-0-workerSize')).toHaveValue(size);
  await expect(fit).toHaveAttribute('data-status', 'pass');
  await expect(page.getByTestId('fit-apply-0')).toHaveCount(0);
  await snap(page, 'wizard-3-provider-desktop');
  await next(page, 'credentials');

  // Step 4: a rejected token shows the error card; an accepted one passes.
  await page.locator('#f-secrets-hetznerToken').fill(BAD_TOKEN);
  await page.getByTestId('validate-token').click();
  const card = page.getByTestId('token-error');
  await expect(card).toHaveAttribute('data-kind', 'rejected');
  await expect(card).toContainText('Hetzner rejected this token');
  await expect(card).toContainText('HTTP 401');
  await expect(card.locator('.raw')).toContainText('unauthorized');
  await expect(card.getByTestId('copy-diagnostic')).toBeVisible();
  await snap(page, 'wizard-4-token-rejected-desktop');
  await page.locator('#f-secrets-hetznerToken').fill(GOOD_TOKEN);
  await page.getByTestId('validate-token').click();
  await expect(page.getByTestId('token-ok')).toBeVisible();
  await page.locator('#f-hetznerProjectId').fill('1234567');
  // An invalid pasted key is refused with the shared rule's message.
  await page.getByTestId('ssh-tab-paste').click();
  await page.getByTestId('ssh-paste').fill('ssh-rsa not-a-key');
  await expect(page.getByTestId('error-sshPublicKey')).toContainText('base64');
  await page.getByTestId('ssh-paste').fill('ecdsa-sha2-nistp384 AAAAE2VjZHNh');
  await expect(page.getByTestId('error-sshPublicKey')).toContainText('not supported');
  await page.getByTestId('ssh-paste').fill(ED25519);
  await expect(page.getByTestId('ssh-paste-ok')).toBeVisible();
  // Or generate one: the private key is offered as a download, once.
  await page.getByTestId('ssh-tab-generate').click();
  const download = page.waitForEvent('download');
  await page.getByTestId('ssh-generate').click();
  expect((await download).suggestedFilename()).toMatch(/\.pem$/);
  await expect(page.getByTestId('ssh-fingerprint')).toContainText('SHA256:');
  await snap(page, 'wizard-4-credentials-desktop');
  await next(page, 'components');

  // Step 5: the marketplace grid, on the draft's selection (the catalog's defaults to begin with).
  const count = page.getByTestId('selected-count');
  await expect(page.getByTestId('component-grid')).toBeVisible();
  await expect(count).toHaveText('Selected 50 of 70');
  // Adding a CORTEX member brings the cascading family and its dependencies, as in the marketplace.
  const added = saved(page);
  await gridCard(page, 'neo4j').getByTestId('toggle').click();
  await expect(page.getByTestId('toast').last()).toContainText('Also added the CORTEX family');
  await expect(count).toHaveText('Selected 58 of 70');
  await added;
  // Removing one that others need shows the impact first; "Remove all" takes them along.
  await gridCard(page, 'ferretdb').getByTestId('toggle').click();
  const dialog = page.getByTestId('removal-dialog');
  await expect(dialog).toContainText('Removing it will also remove:');
  await expect(page.getByTestId('removal-list').locator('li')).toHaveText(['LibreChat']);
  await snap(page, 'wizard-5-components-dialog-desktop');
  const removed = saved(page);
  await dialog.getByRole('button', { name: 'Remove all' }).click();
  await expect(count).toHaveText('Selected 56 of 70');
  await expect(gridCard(page, 'librechat')).toHaveAttribute('data-selected', 'false');
  await removed;
  // The selection is the draft's: it survives a reload.
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toBeVisible();
  await expect(count).toHaveText('Selected 56 of 70');
  await expect(gridCard(page, 'neo4j')).toHaveAttribute('data-selected', 'true');
  await snap(page, 'wizard-5-components-desktop');
  // The reload cleared the token (it lives in memory only): enter it again on the way.
  await page.getByTestId('stepper-credentials').getByRole('link').click();
  await credentials(page);
  await next(page, 'components');
  await next(page, 'domain');

  // Step 6: reserved names are refused; a free name is available.
  const sub = page.locator('#f-domain-subdomain');
  await sub.fill('console');
  await expect(page.getByTestId('subdomain-status')).toHaveText('reserved');
  await expect(page.getByTestId('subdomain-error')).toContainText('Subdomain is reserved');
  await page.getByTestId('wizard-continue').click();
  await expect(sub).toBeFocused();
  await sub.fill('Bad_Name');
  await expect(page.getByTestId('subdomain-status')).toHaveText('invalid');
  await sub.fill('globex');
  await expect(page.getByTestId('subdomain-status')).toHaveText('available');
  await expect(page.getByTestId('sovereign-url')).toHaveText('Sovereign domain: globex.omani.works');
  await page.locator('#f-adminEmail').fill('ops@globex.example');
  await snap(page, 'wizard-6-domain-desktop');
  await next(page, 'review');

  // Step 7: everything, masked, with Edit links.
  await expect(page.getByTestId('review-org-name')).toHaveText('Globex Bank');
  await expect(page.getByTestId('review-token')).toHaveText(`•••••••••••• (${GOOD_TOKEN.length} chars)`);
  await expect(page.getByTestId('review-fqdn')).toHaveText('globex.omani.works');
  await expect(page.getByTestId('review-cost')).toContainText('per month without VAT');
  await expect(page.getByTestId('review-owner-org')).toHaveText('Default');
  // The key re-entered after the reload is the pasted one: its fingerprint is ssh-keygen's.
  await expect(page.getByTestId('review-ssh-fingerprint')).toHaveText(ED25519_FINGERPRINT);
  await expect(page.getByTestId('review-components-count')).toContainText('56 selected');
  await expect(page.getByTestId('review-component-list')).toContainText('Neo4j');
  await expect(page.getByTestId('review-component-list')).not.toContainText('LibreChat');
  await expect(page.getByRole('link', { name: 'Edit Provider' })).toHaveAttribute('href', '/sovereign/wizard/provider');
  await expect(page.getByTestId('wizard-progress')).toHaveText('Step 7 of 7 · Review · 100%');
  await snap(page, 'wizard-7-review-desktop');

  // The pre-flight runs when the step opens (its list and Launch's gating: preflight.hydrate.spec.ts).
  await expect(page.getByTestId('preflight-summary')).toBeVisible({ timeout: 30_000 });
  // Once the pre-flight priced the request with Hetzner's prices, the section shows that same figure.
  const checked = /€[\d.]+ per month without VAT · €[\d.]+ with \d+ % VAT/.exec(
    (await page.getByTestId('preflight-cost-total').textContent()) ?? '',
  )?.[0];
  expect(checked).toBeTruthy();
  await expect(page.getByTestId('review-cost')).toContainText(checked!);

  // The stepper lets the user go back to a completed step.
  await page.getByTestId('stepper-organisation').getByRole('link').click();
  await expect(page).toHaveURL(/organisation$/);
  await expect(page.locator('#f-org-name')).toHaveValue('Globex Bank');
});

test('reloading in the middle keeps every non-secret field, and asks for the token again', async ({ page }) => {
  await startOver(page);
  await page.locator('#f-org-name').fill('Initech');
  await page.locator('#f-org-headquarters').fill('Berlin, Germany');
  await next(page, 'topology');
  await page.getByTestId('topology-dual').click();
  await next(page, 'provider');
  const wait = saved(page);
  await page.getByTestId('region-1').getByRole('button', { name: 'One worker more' }).click();
  await wait;
  await next(page, 'credentials');
  await page.locator('#f-secrets-hetznerToken').fill(GOOD_TOKEN);
  const wait2 = saved(page);
  await page.locator('#f-hetznerProjectId').fill('42');
  await wait2;

  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toBeVisible();
  await expect(page).toHaveURL(/credentials$/);
  await expect(page.locator('#f-hetznerProjectId')).toHaveValue('42');
  await expect(page.locator('#f-secrets-hetznerToken')).toHaveValue('');
  // Nothing secret in browser storage.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toContain(GOOD_TOKEN);

  await page.getByTestId('stepper-provider').getByRole('link').click();
  await expect(page.locator('#f-regions-1-workerCount')).toHaveValue('1');
  await expect(page.getByTestId('region-1')).toBeVisible();
  await page.getByTestId('stepper-organisation').getByRole('link').click();
  await expect(page.locator('#f-org-name')).toHaveValue('Initech');
  await expect(page.locator('#f-org-headquarters')).toHaveValue('Berlin, Germany');

  // A new tab continues the same draft.
  const tab = await page.context().newPage();
  await tab.goto('/sovereign/wizard');
  await expect(tab).toHaveURL(/credentials$/);
  await expect(tab.locator('#f-hetznerProjectId')).toHaveValue('42');
  await tab.close();
});

test('a future step URL lands on the first incomplete step', async ({ page }) => {
  await startOver(page);
  await page.goto('/sovereign/wizard/review');
  await expect(page).toHaveURL(/\/sovereign\/wizard\/organisation$/);
  await expect(page.getByTestId('stepper-review')).toHaveAttribute('class', /is-future/);
  await expect(page.getByTestId('stepper-review').getByRole('link')).toHaveCount(0);
});

test('Launch hands the request to the engine and lands on the live deployment page', async ({ page }) => {
  test.setTimeout(120_000);
  await startOver(page);
  await next(page, 'topology');
  await page.getByTestId('topology-solo').click();
  await next(page, 'provider');
  // The default selection needs workers beside the one control plane (the Review step's pre-flight): on
  // two cpx32 workers it is tight (a warning to acknowledge), on three it fits.
  for (let i = 0; i < 3; i++) {
    await page.getByTestId('region-0').getByRole('button', { name: 'One worker more' }).click();
  }
  await next(page, 'credentials');
  await credentials(page);
  await next(page, 'components');
  await next(page, 'domain');
  // The stand-in OpenTofu behaves by the first label: "very-slow…" applies resource by resource, so the page
  // visibly progresses.
  const sub = `very-slow-${Date.now().toString(36)}`;
  await page.locator('#f-domain-subdomain').fill(sub);
  await expect(page.getByTestId('subdomain-status')).toHaveText('available');
  await next(page, 'review');
  await expect(page.getByTestId('review-fqdn')).toHaveText(`${sub}.omani.works`);
  await expect(page.getByTestId('review-ssh-fingerprint')).toHaveText(ED25519_FINGERPRINT);
  await expect(page.getByTestId('preflight-summary')).toContainText('passed', { timeout: 30_000 });

  // A submit the server rejects (here: a request altered on the wire, skipping the browser's checks) shows
  // the server's message beside its field, on the step it belongs to.
  await page.route('**/api/fn/wizard/launch', async (route) => {
    const body = JSON.parse(route.request().postData() ?? '{}');
    body.create.request.hetznerProjectId = 'has space';
    expect(body.org_id).toBeTruthy();
    await route.continue({ postData: JSON.stringify(body) });
  });
  await page.getByTestId('wizard-continue').click();
  await expect(page).toHaveURL(/credentials$/);
  await expect(page.getByTestId('error-hetznerProjectId')).toContainText('Use only letters, digits');
  await expect(page.locator('#f-hetznerProjectId')).toBeFocused();
  await page.unroute('**/api/fn/wizard/launch');
  await page.getByTestId('stepper-review').getByRole('link').click();
  await expect(page).toHaveURL(/review$/);
  await expect(page.getByTestId('wizard-continue')).toBeEnabled({ timeout: 30_000 });
  await page.getByTestId('wizard-continue').click();
  await expect(page).toHaveURL(/\/sovereign\/provision\/[A-Za-z0-9_-]+$/, { timeout: 30_000 });
  await expect(page.getByTestId('link-state')).toHaveText(/Live|Finished/, { timeout: 20_000 });
  await expect(page.getByTestId('phase-tofu-apply')).toHaveAttribute('data-state', /running|succeeded/, { timeout: 30_000 });
  const before = await page.getByTestId('log-line').count();
  await expect.poll(async () => page.getByTestId('log-line').count(), { timeout: 20_000 }).toBeGreaterThan(before);
  await expect(page.getByText(`${sub}.omani.works`).first()).toBeVisible();
  await snap(page, 'wizard-launched-live-desktop');

  // The run is over for the wizard: a new visit starts a new draft, and the name is now taken.
  await page.goto('/sovereign/wizard');
  await expect(page).toHaveURL(/\/sovereign\/wizard\/organisation$/);
  await expect(page.getByTestId('stepper-topology')).toHaveAttribute('class', /is-future/);
});

test.describe('as a viewer', () => {
  test.use({ storageState: STATE.viewer });

  test('a viewer is not offered the wizard and is refused it', async ({ page }) => {
    await page.goto('/sovereign');
    await expect(page.getByRole('link', { name: 'New Sovereign' })).toHaveCount(0);
    const res = await page.goto('/sovereign/wizard/organisation');
    expect(res?.status()).toBe(403);
    await expect(page.getByTestId('error')).toContainText('wizard.use');
    await snap(page, 'wizard-forbidden-viewer');
  });
});
