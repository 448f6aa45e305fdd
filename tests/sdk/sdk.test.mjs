// The official SDKs, unchanged, against ferry's sandbox: only the base URL
// and the keys point at it. run.sh starts the sandbox and sets SANDBOX_READY
// (the ready file), SANDBOX_EXPORT (Dashboard CSV) and SANDBOX_PASSWORDS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { WorkOS } from '@workos-inc/node';
import { createClerkClient } from '@clerk/backend';

const ready = JSON.parse(readFileSync(process.env.SANDBOX_READY, 'utf8'));
const workosUrl = new URL(ready.workos_url);
const workos = new WorkOS(ready.workos_api_key, {
  apiHostname: workosUrl.hostname,
  port: Number(workosUrl.port),
  https: false,
  clientId: ready.workos_client_id,
});
const clerk = createClerkClient({ secretKey: ready.clerk_secret_key, apiUrl: ready.clerk_url });

// Generated data has no commas or quotes inside cells, so a plain split reads it.
function readCsv(path) {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header.replace(/^\uFEFF/, '').split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [names[i], cell])));
}

// RFC 6238 with SHA-1, 6 digits, 30 s: what an authenticator app computes.
function totp(secretBase32, unixSeconds = Math.floor(Date.now() / 1000)) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secretBase32.replace(/=+$/, '')) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

test('WorkOS: create, list, update and authenticate a user imported with a Clerk bcrypt digest', async () => {
  const exportRows = readCsv(process.env.SANDBOX_EXPORT);
  const passwords = readCsv(process.env.SANDBOX_PASSWORDS);
  const entry = passwords.find((p) => p.password_hasher === 'bcrypt' && p.email);
  const row = exportRows.find((r) => r.id === entry.user_id);
  assert.ok(row.password_digest.startsWith('$2'));

  const user = await workos.userManagement.createUser({
    email: entry.email,
    firstName: row.first_name,
    lastName: row.last_name,
    emailVerified: true,
    externalId: entry.user_id,
    passwordHash: row.password_digest,
    passwordHashType: 'bcrypt',
  });
  assert.match(user.id, /^user_/);
  assert.equal(user.externalId, entry.user_id);

  const listed = await workos.userManagement.listUsers({ email: entry.email });
  assert.equal(listed.data.length, 1);
  assert.equal(listed.data[0].id, user.id);

  const updated = await workos.userManagement.updateUser({ userId: user.id, firstName: 'Renamed' });
  assert.equal(updated.firstName, 'Renamed');
  assert.equal(updated.lastName, row.last_name);

  const byExternalId = await workos.userManagement.getUserByExternalId(entry.user_id);
  assert.equal(byExternalId.id, user.id);

  const session = await workos.userManagement.authenticateWithPassword({
    clientId: ready.workos_client_id,
    email: entry.email,
    password: entry.password,
  });
  assert.equal(session.user.id, user.id);
  assert.ok(session.accessToken);

  await assert.rejects(
    workos.userManagement.authenticateWithPassword({
      clientId: ready.workos_client_id,
      email: entry.email,
      password: 'not the password',
    }),
    (error) => error.status === 400 && error.rawData?.code === 'invalid_credentials',
  );
});

test('WorkOS: enroll an imported TOTP secret and verify a code', async () => {
  const exportRows = readCsv(process.env.SANDBOX_EXPORT);
  const row = exportRows.find((r) => r.totp_secret && r.primary_email_address);
  const user = await workos.userManagement.createUser({ email: `totp.${row.primary_email_address}` });
  const { authenticationFactor, authenticationChallenge } = await workos.userManagement.enrollAuthFactor({
    userId: user.id,
    type: 'totp',
    totpSecret: row.totp_secret,
  });
  assert.equal(authenticationFactor.type, 'totp');
  assert.equal(authenticationFactor.totp.secret, row.totp_secret);

  const factors = await workos.userManagement.listAuthFactors({ userId: user.id });
  assert.equal(factors.data.length, 1);
  assert.equal(factors.data[0].id, authenticationFactor.id);

  const verified = await workos.mfa.verifyChallenge({
    authenticationChallengeId: authenticationChallenge.id,
    code: totp(row.totp_secret),
  });
  assert.equal(verified.valid, true);
});

test('WorkOS: create an organization and a membership', async () => {
  const organization = await workos.organizations.createOrganization({
    name: 'SDK Check Inc',
    externalId: 'org_sdk_check',
    domainData: [{ domain: 'sdk-check.test', state: 'verified' }],
  });
  assert.match(organization.id, /^org_/);
  const fetched = await workos.organizations.getOrganizationByExternalId('org_sdk_check');
  assert.equal(fetched.id, organization.id);

  const user = await workos.userManagement.createUser({ email: 'member@sdk-check.test' });
  const membership = await workos.userManagement.createOrganizationMembership({
    organizationId: organization.id,
    userId: user.id,
    roleSlug: 'admin',
  });
  assert.equal(membership.role.slug, 'admin');
  assert.equal(membership.status, 'active');

  const memberships = await workos.userManagement.listOrganizationMemberships({ organizationId: organization.id });
  assert.equal(memberships.data.length, 1);
  assert.equal(memberships.data[0].userId, user.id);

  await assert.rejects(
    workos.userManagement.createOrganizationMembership({ organizationId: organization.id, userId: user.id }),
    (error) => error.status === 409,
  );
});

test('Clerk: list users, organizations and memberships', async () => {
  const expectedUsers = readCsv(process.env.SANDBOX_EXPORT).length;
  const users = await clerk.users.getUserList({ limit: 10, orderBy: '+created_at' });
  assert.equal(users.data.length, 10);
  assert.equal(users.totalCount, expectedUsers);
  assert.match(users.data[0].id, /^user_/);
  assert.ok(users.data[0].createdAt <= users.data[1].createdAt);
  const someone = users.data.find((u) => u.primaryEmailAddressId);
  assert.ok(someone.primaryEmailAddress.emailAddress.includes('@'));

  const next = await clerk.users.getUserList({ limit: 10, offset: 10, orderBy: '+created_at' });
  assert.notEqual(next.data[0].id, users.data[0].id);

  const organizations = await clerk.organizations.getOrganizationList({ limit: 5 });
  assert.ok(organizations.totalCount > 0);
  assert.match(organizations.data[0].id, /^org_/);

  const memberships = await clerk.organizations.getOrganizationMembershipList({
    organizationId: organizations.data[0].id,
    limit: 100,
  });
  assert.ok(memberships.totalCount >= memberships.data.length);
  for (const membership of memberships.data) {
    assert.match(membership.role, /^org:/);
    assert.equal(membership.organization.id, organizations.data[0].id);
    assert.match(membership.publicUserData.userId, /^user_/);
  }

  const all = await clerk.organizations.getInstanceOrganizationMembershipList({ limit: 5 });
  assert.ok(all.totalCount >= memberships.totalCount);
});

test('WorkOS: an organization lists its roles, and a membership with a role WorkOS lacks is refused', async () => {
  const organization = await workos.organizations.createOrganization({ name: 'SDK Roles Inc' });
  const roles = await workos.organizations.listOrganizationRoles({ organizationId: organization.id });
  assert.deepEqual(
    roles.data.map((role) => role.slug),
    ['admin', 'member'],
  );
  assert.equal(roles.data[0].type, 'EnvironmentRole');
  const user = await workos.userManagement.createUser({ email: 'roles@sdk-check.test' });
  await assert.rejects(
    workos.userManagement.createOrganizationMembership({
      organizationId: organization.id,
      userId: user.id,
      roleSlug: 'billing_manager',
    }),
    (error) => error.status === 422 && error.code === 'invalid_role',
  );
});

test('Clerk: organization roles with their permissions, permissions, and domains', async () => {
  const roles = await clerk.organizationRoles.getOrganizationRoleList({ limit: 100 });
  const keys = roles.data.map((role) => role.key);
  assert.ok(keys.includes('org:admin') && keys.includes('org:billing_manager'), keys.join());
  const billing = roles.data.find((role) => role.key === 'org:billing_manager');
  assert.ok(billing.permissions.some((p) => p.key === 'org:invoices:read'));

  const permissions = await clerk.organizationPermissions.getOrganizationPermissionList({ limit: 100 });
  assert.ok(permissions.data.some((p) => p.key === 'org:sys_memberships:read'));

  const organizations = await clerk.organizations.getOrganizationList({ limit: 100, orderBy: '+created_at' });
  const domains = await clerk.organizations.getOrganizationDomainList({ organizationId: organizations.data[0].id });
  assert.ok(domains.totalCount >= 1);
  // This SDK version has no OrganizationDomain class: domains come back as the API's JSON.
  const domain = domains.data[0];
  assert.equal(domain.organizationId ?? domain.organization_id, organizations.data[0].id);
  assert.ok(['verified', 'unverified'].includes(domain.verification.status));
});
