import { APIRequestContext, expect, test } from '@playwright/test';

/**
 * A valid provisioning request with `components` (the catalog's mandatory ones: see `mandatoryComponents`);
 * the stand-in tofu (`tests/standins/tofu-by-label`) behaves by the domain's first label (slow, very-slow,
 * fail-apply, fail-once).
 */
export function deploymentBody(subdomain: string, components: string[]) {
  return {
    request: {
      org: { name: 'Acme Sovereign', headquarters: 'Muscat', industry: 'telecommunications', size: '500-2000', compliance: [] },
      topology: 'solo',
      haEnabled: false,
      airgap: false,
      regions: [{ provider: 'hetzner', cloudRegion: 'fsn1', controlPlaneSize: 'cpx32', workerSize: 'cpx42', workerCount: 1 }],
      hetznerProjectId: '1234567',
      sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIJqkUdW0kITcizpA/hK0ctsNltkludKjpEl7vyqQir ops@acme',
      components,
      // A pool subdomain: a bring-your-own domain's run waits in phase `dns` until the domain is delegated to
      // Catalyst's nameservers, which no test domain ever is.
      domain: { mode: 'pool', poolDomain: 'omani.works', subdomain },
      adminEmail: 'ops@acme.example',
    },
    // The create path checks the token with Hetzner: the stand-in scripts/test.sh starts accepts this one.
    secrets: { hetznerToken: process.env.E2E_HETZNER_TOKEN ?? 'set-E2E_HETZNER_TOKEN-to-the-stand-in-token-0123456789abcdefghij' },
  };
}

/** The catalog's mandatory components (effective tier), the smallest selection the engine accepts. */
export async function mandatoryComponents(request: APIRequestContext): Promise<string[]> {
  const res = await request.get('/sovereign/api/v1/catalog');
  expect(res.status()).toBe(200);
  const doc = await res.json();
  return (doc.blueprints as { id: string; effectiveTier: string }[])
    .filter((b) => b.effectiveTier === 'mandatory')
    .map((b) => b.id);
}

/** Creates a deployment through the REST API and returns its id. */
export async function createDeployment(request: APIRequestContext, label: string): Promise<string> {
  const subdomain = `${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const components = await mandatoryComponents(request);
  // A cookie-authorised state change: the console wants its own Origin (CSRF check).
  const origin = new URL(test.info().project.use.baseURL ?? process.env.CATALYST_URL ?? '').origin;
  const res = await request.post('/sovereign/api/v1/deployments', { data: deploymentBody(subdomain, components), headers: { origin } });
  expect(res.status(), await res.text()).toBe(201);
  const body = await res.json();
  return body.id as string;
}
