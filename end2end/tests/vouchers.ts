/** Helpers shared by the voucher specs. */
import { APIRequestContext, expect, test } from '@playwright/test';

/** A code no other run used (codes are never reused). Mixed case on purpose: codes are case-insensitive. */
export function uniqueCode(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.toUpperCase();
}

/** The console's origin, which cookie-authorised state changes must carry (CSRF check). */
export function origin() {
  return new URL(test.info().project.use.baseURL ?? process.env.CATALYST_URL ?? 'http://127.0.0.1:3000').origin;
}

/**
 * Issues a voucher through the REST API as the signed-in superadmin (`request` carries the admin's session).
 * `credit` is in euros.
 */
export async function issueVoucher(
  request: APIRequestContext,
  code: string,
  credit: number,
  extra: { active?: boolean; max_redemptions?: number; description?: string } = {},
) {
  const res = await request.post('/sovereign/api/v1/vouchers', {
    data: { code, credit_cents: Math.round(credit * 100), ...extra },
    headers: { origin: origin() },
  });
  expect(res.status(), await res.text()).toBe(201);
  return res.json();
}
