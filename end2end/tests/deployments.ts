import { APIRequestContext, expect, test } from '@playwright/test';
import { deploymentBody, mandatoryComponents } from './provision';

/** Creates a deployment in cloud region `region` through the REST API and returns its id. */
export async function createIn(request: APIRequestContext, label: string, region: string): Promise<string> {
  const subdomain = `${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const body = deploymentBody(subdomain, await mandatoryComponents(request));
  body.request.regions[0].cloudRegion = region;
  const origin = new URL(test.info().project.use.baseURL ?? process.env.CATALYST_URL ?? '').origin;
  const res = await request.post('/sovereign/api/v1/deployments', { data: body, headers: { origin } });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id as string;
}

/** Five deployments named `<tag>0` … `<tag>4`: the first three in hel1, the others in fsn1. */
export async function fivePaged(request: APIRequestContext, tag: string): Promise<void> {
  for (let i = 0; i < 5; i++) await createIn(request, `${tag}${i}`, i < 3 ? 'hel1' : 'fsn1');
}
