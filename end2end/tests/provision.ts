import { APIRequestContext, expect } from '@playwright/test';

/** A valid provisioning request; the stand-in tofu behaves by the domain's first label (slow, very-slow, fail-apply…). */
export function deploymentBody(fqdn: string) {
  return {
    request: {
      org: { name: 'Acme Sovereign', headquarters: 'Muscat', industry: 'telecommunications', size: '500-2000', compliance: [] },
      topology: 'solo',
      haEnabled: false,
      airgap: false,
      regions: [{ provider: 'hetzner', cloudRegion: 'fsn1', controlPlaneSize: 'cx42', workerSize: 'cx32', workerCount: 1 }],
      hetznerProjectId: '1234567',
      sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx1Y2t5IHRlc3Qga2V5IGZvciBjYXRhbHlzdA ops@acme',
      components: ['cilium', 'cert-manager'],
      domain: { mode: 'byo-manual', byoDomain: fqdn },
      adminEmail: 'ops@acme.example',
    },
    secrets: { hetznerToken: 'e2etokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllMMMMnnnn' },
  };
}

/** Creates a deployment through the REST API and returns its id. */
export async function createDeployment(request: APIRequestContext, label: string): Promise<string> {
  const fqdn = `${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}.example.com`;
  const res = await request.post('/sovereign/api/v1/deployments', { data: deploymentBody(fqdn) });
  expect(res.status(), await res.text()).toBe(201);
  const body = await res.json();
  return body.id as string;
}
