// The official Clerk Backend SDK, unchanged, against ferry's sandbox: users
// listed and counted with each filter, organizations, roles, permissions,
// domains and memberships, organization and application invitations, the
// instance, and the 401/404/429 error classes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';
import { isClerkAPIResponseError } from '@clerk/backend/errors';
import { ready, exportRows, admin, expectNodeMajor } from './common.mjs';

const clerk = createClerkClient({ secretKey: ready.clerk_secret_key, apiUrl: ready.clerk_url });

before(() => expectNodeMajor());

const refused = (status, code) => (error) =>
  isClerkAPIResponseError(error) && error.status === status && (!code || error.errors[0]?.code === code);

test('users: pages in order, and every filter lists and counts the same users', async () => {
  const expectedUsers = exportRows().length;
  const users = await clerk.users.getUserList({ limit: 10, orderBy: '+created_at' });
  assert.equal(users.data.length, 10);
  assert.equal(users.totalCount, expectedUsers);
  assert.ok(users.data[0].createdAt <= users.data[1].createdAt);
  const next = await clerk.users.getUserList({ limit: 10, offset: 10, orderBy: '+created_at' });
  assert.notEqual(next.data[0].id, users.data[0].id);
  assert.equal(await clerk.users.getCount(), expectedUsers);

  const all = await clerk.users.getUserList({ limit: 500 });
  const withEmail = all.data.find((u) => u.primaryEmailAddress);
  const withPhone = all.data.find((u) => u.phoneNumbers.length > 0);
  const withUsername = all.data.find((u) => u.username);
  const email = withEmail.primaryEmailAddress.emailAddress;
  const filters = [
    [{ emailAddress: [email] }, (u) => u.emailAddresses.some((e) => e.emailAddress === email)],
    [{ phoneNumber: [withPhone.phoneNumbers[0].phoneNumber] }, (u) => u.phoneNumbers.some((p) => p.phoneNumber === withPhone.phoneNumbers[0].phoneNumber)],
    [{ username: [withUsername.username] }, (u) => u.username === withUsername.username],
    [{ userId: [all.data[0].id, all.data[1].id] }, (u) => [all.data[0].id, all.data[1].id].includes(u.id)],
    [{ query: withEmail.lastName ?? email }, null],
  ];
  for (const [params, expected] of filters) {
    const listed = await clerk.users.getUserList({ ...params, limit: 500 });
    assert.ok(listed.data.length >= 1, JSON.stringify(params));
    assert.ok(listed.data.length < expectedUsers, `${JSON.stringify(params)} filters`);
    if (expected) {
      assert.deepEqual(listed.data.map((u) => u.id).sort(), all.data.filter(expected).map((u) => u.id).sort());
    }
    assert.equal(await clerk.users.getCount(params), listed.totalCount, JSON.stringify(params));
  }
  const newest = all.data.reduce((a, b) => (a.createdAt > b.createdAt ? a : b));
  const after = await clerk.users.getUserList({ createdAtAfter: newest.createdAt - 1 });
  assert.deepEqual(after.data.map((u) => u.id), [newest.id]);
  const before = await clerk.users.getUserList({ createdAtBefore: newest.createdAt, limit: 500 });
  assert.equal(before.totalCount, expectedUsers - 1);
  const recent = await clerk.users.getUserList({ orderBy: '-updated_at', limit: 1 });
  assert.equal(recent.data.length, 1);
});

test('organizations, memberships and the instance', async () => {
  const organizations = await clerk.organizations.getOrganizationList({ limit: 5, includeMembersCount: true });
  assert.ok(organizations.totalCount > 0);
  const organization = organizations.data[0];
  assert.match(organization.id, /^org_/);
  assert.equal(typeof organization.membersCount, 'number');
  const found = await clerk.organizations.getOrganizationList({ query: organization.name });
  assert.ok(found.data.some((o) => o.id === organization.id));
  assert.ok(found.totalCount < organizations.totalCount || organizations.totalCount === 1);
  const fetched = await clerk.organizations.getOrganization({ organizationId: organization.id });
  assert.equal(fetched.name, organization.name);

  const memberships = await clerk.organizations.getOrganizationMembershipList({ organizationId: organization.id, limit: 100 });
  assert.equal(memberships.totalCount, organization.membersCount);
  for (const membership of memberships.data) {
    assert.match(membership.role, /^org:/);
    assert.equal(membership.organization.id, organization.id);
    assert.match(membership.publicUserData.userId, /^user_/);
  }
  const all = await clerk.organizations.getInstanceOrganizationMembershipList({ limit: 5 });
  assert.ok(all.totalCount >= memberships.totalCount);
  const userId = memberships.data[0].publicUserData.userId;
  const ofUser = await clerk.users.getOrganizationMembershipList({ userId });
  assert.ok(ofUser.data.some((m) => m.organization.id === organization.id));

  const instance = await clerk.instance.get();
  assert.equal(instance.environmentType, 'development');
});

test('organization roles with their permissions, permissions, and domains', async () => {
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

test('organization invitations by status, and application invitations without the revoked', async () => {
  // The generator gives the first organization every kind of invitation.
  const organizations = await clerk.organizations.getOrganizationList({ limit: 100, orderBy: '+created_at' });
  const organization = organizations.data[0];
  const all = await clerk.organizations.getOrganizationInvitationList({ organizationId: organization.id, limit: 100 });
  assert.ok(all.totalCount >= 5, `${all.totalCount}`);
  assert.equal(all.data.length, all.totalCount);
  for (const invitation of all.data) {
    assert.match(invitation.id, /^orginv_/);
    assert.equal(invitation.organizationId, organization.id);
    assert.match(invitation.role, /^org:/);
    assert.match(invitation.url, /__clerk_ticket=/);
    assert.ok(['pending', 'accepted', 'revoked', 'expired'].includes(invitation.status), invitation.status);
  }
  const statuses = new Set(all.data.map((i) => i.status));
  assert.deepEqual([...statuses].sort(), ['accepted', 'expired', 'pending', 'revoked']);
  const newestFirst = all.data.map((i) => i.createdAt);
  assert.deepEqual(newestFirst, [...newestFirst].sort((a, b) => b - a));
  for (const status of [['pending'], ['revoked', 'expired']]) {
    const listed = await clerk.organizations.getOrganizationInvitationList({ organizationId: organization.id, status, limit: 100 });
    const expected = all.data.filter((i) => status.includes(i.status)).map((i) => i.id);
    assert.deepEqual(listed.data.map((i) => i.id), expected, status.join());
    assert.equal(listed.totalCount, expected.length);
  }
  await assert.rejects(
    clerk.organizations.getOrganizationInvitationList({ organizationId: 'org_2NoSuchOrganization' }),
    refused(404, 'resource_not_found'),
  );

  // Every invitation but the revoked ones, as the spec describes the route.
  const invitations = await clerk.invitations.getInvitationList();
  assert.equal(invitations.data.length, 4);
  for (const invitation of invitations.data) {
    assert.match(invitation.id, /^inv_/);
    assert.notEqual(invitation.status, 'revoked');
    assert.match(invitation.url, /__clerk_ticket=/);
  }
  const revoked = await clerk.invitations.getInvitationList({ status: 'revoked' });
  assert.equal(revoked.data.length, 1);
  assert.equal(revoked.data[0].revoked, true);
  const pending = await clerk.invitations.getInvitationList({ status: 'pending', orderBy: '+expires_at' });
  assert.equal(pending.data.length, 3);
  const one = pending.data[1];
  const found = await clerk.invitations.getInvitationList({ query: one.emailAddress });
  assert.deepEqual(found.data.map((i) => i.id), [one.id]);
});

test('errors: 401 for a wrong key, 404 for an unknown user, 429 past the rate limit', async () => {
  const stranger = createClerkClient({ secretKey: 'sk_test_not_this_tenant', apiUrl: ready.clerk_url });
  await assert.rejects(stranger.users.getUserList({ limit: 1 }), refused(401));
  await assert.rejects(clerk.users.getUser('user_2NoSuchUserAnywhere'), refused(404, 'resource_not_found'));

  const { body: limits } = await admin('GET', 'limits');
  try {
    await admin('PUT', 'limits', { ...limits, enabled: true, clerk_test: { requests: 1, per_seconds: 60 } });
    await clerk.users.getCount().catch(() => {});
    await assert.rejects(clerk.users.getCount(), (error) => refused(429)(error) && error.retryAfter > 0);
  } finally {
    await admin('PUT', 'limits', limits);
  }
});
