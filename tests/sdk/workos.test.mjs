// The official WorkOS Node SDK, unchanged, against ferry's sandbox: only the
// base URL and the keys point at it. Invitations are checked against the
// sandbox's email record too (`/__sandbox/emails`). run.sh runs this file twice, with the
// 7.x SDK on Node 20 and the newest major on Node 22 (WORKOS_SDK names the
// package, EXPECT_NODE_MAJOR the Node major). Where the two majors name a
// call differently, `api` below picks the one this SDK has.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ready, exportRows, passwords, totp, admin, expectNodeMajor } from './common.mjs';

const sdkName = process.env.WORKOS_SDK ?? '@workos-inc/node';
const { WorkOS } = await import(sdkName);
const sdkVersion = JSON.parse(
  readFileSync(new URL(`./node_modules/${sdkName}/package.json`, import.meta.url), 'utf8'),
).version;
console.log(`WorkOS SDK ${sdkVersion} on Node ${process.versions.node}`);

const workosUrl = new URL(ready.workos_url);
const workos = new WorkOS(ready.workos_api_key, {
  apiHostname: workosUrl.hostname,
  port: Number(workosUrl.port),
  https: false,
  clientId: ready.workos_client_id,
});
const clientId = ready.workos_client_id;

const api = {
  mfa: workos.mfa ?? workos.multiFactorAuth,
  enroll: (options) =>
    workos.userManagement.enrollAuthFactor
      ? workos.userManagement.enrollAuthFactor(options)
      : workos.multiFactorAuth.createUserAuthFactor(options),
  factors: (options) =>
    workos.userManagement.listAuthFactors
      ? workos.userManagement.listAuthFactors(options)
      : workos.multiFactorAuth.listUserAuthFactors(options),
  organizationRoles: (organizationId) =>
    workos.organizations.listOrganizationRoles
      ? workos.organizations.listOrganizationRoles({ organizationId })
      : workos.authorization.listOrganizationRoles(organizationId),
};

const codeOf = (error) => error.rawData?.code ?? error.code ?? error.rawData?.error;
const refusedWith = (status, code) => (error) =>
  error.status === status && (code === undefined || codeOf(error) === code);

before(async () => {
  expectNodeMajor();
  // Each run starts from an empty WorkOS environment (the Clerk tenant stays).
  assert.equal((await admin('POST', 'state/reset')).status, 204);
});

function bcryptEntries(count) {
  const rows = exportRows();
  return passwords()
    .filter((p) => p.password_hasher === 'bcrypt' && p.email)
    .slice(0, count)
    .map((entry) => ({ entry, row: rows.find((r) => r.id === entry.user_id) }));
}

test('users: create with a Clerk digest, list with cursors and auto-pagination, get by external id, update with a hash, delete', async () => {
  const [{ entry, row }, second] = bcryptEntries(2);
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
  // 105 in all: auto-pagination (100 a page) has to follow a cursor.
  for (let n = 0; n < 104; n++) {
    await workos.userManagement.createUser({ email: `page.${n}@sdk-check.test` });
  }

  const first = await workos.userManagement.listUsers({ limit: 5, order: 'asc' });
  assert.equal(first.data.length, 5);
  assert.equal(first.data[0].id, user.id);
  assert.ok(first.listMetadata.after);
  const next = await workos.userManagement.listUsers({ limit: 5, order: 'asc', after: first.listMetadata.after });
  assert.equal(next.data.length, 5);
  assert.ok(!first.data.some((u) => next.data.some((v) => v.id === u.id)));
  // (With a `limit`, autoPagination returns only that page.)
  const everyone = await (await workos.userManagement.listUsers()).autoPagination();
  assert.equal(everyone.length, 105);
  assert.equal(new Set(everyone.map((u) => u.id)).size, 105);

  const byEmail = await workos.userManagement.listUsers({ email: entry.email });
  assert.deepEqual(byEmail.data.map((u) => u.id), [user.id]);
  const byExternalId = await workos.userManagement.getUserByExternalId(entry.user_id);
  assert.equal(byExternalId.id, user.id);

  // A new digest (another user's Clerk bcrypt) replaces the password.
  const updated = await workos.userManagement.updateUser({
    userId: user.id,
    firstName: 'Renamed',
    passwordHash: second.row.password_digest,
    passwordHashType: 'bcrypt',
  });
  assert.equal(updated.firstName, 'Renamed');
  assert.equal(updated.lastName, row.last_name);
  const session = await workos.userManagement.authenticateWithPassword({
    clientId,
    email: entry.email,
    password: second.entry.password,
  });
  assert.equal(session.user.id, user.id);

  await workos.userManagement.deleteUser(user.id);
  await assert.rejects(workos.userManagement.getUser(user.id), refusedWith(404));
});

test('authenticate: success, wrong password, unverified email', async () => {
  const [, , { entry, row }, unverified] = bcryptEntries(4);
  const user = await workos.userManagement.createUser({
    email: entry.email,
    emailVerified: true,
    passwordHash: row.password_digest,
    passwordHashType: 'bcrypt',
  });
  const session = await workos.userManagement.authenticateWithPassword({ clientId, email: entry.email, password: entry.password });
  assert.equal(session.user.id, user.id);
  assert.ok(session.accessToken && session.refreshToken);
  await assert.rejects(
    workos.userManagement.authenticateWithPassword({ clientId, email: entry.email, password: 'not the password' }),
    refusedWith(400, 'invalid_credentials'),
  );

  await workos.userManagement.createUser({
    email: unverified.entry.email,
    emailVerified: false,
    passwordHash: unverified.row.password_digest,
    passwordHashType: 'bcrypt',
  });
  await assert.rejects(
    workos.userManagement.authenticateWithPassword({
      clientId,
      email: unverified.entry.email,
      password: unverified.entry.password,
    }),
    (error) =>
      error.status === 403 &&
      codeOf(error) === 'email_verification_required' &&
      typeof error.rawData.pending_authentication_token === 'string',
  );
});

test('MFA: enroll an imported TOTP secret, challenge and verify, and finish a sign-in with a TOTP code', async () => {
  const [, , , , { entry, row }] = bcryptEntries(5);
  const secret = exportRows().find((r) => r.totp_secret).totp_secret;
  const user = await workos.userManagement.createUser({
    email: entry.email,
    emailVerified: true,
    passwordHash: row.password_digest,
    passwordHashType: 'bcrypt',
  });
  const { authenticationFactor, authenticationChallenge } = await api.enroll({
    userId: user.id,
    type: 'totp',
    totpSecret: secret,
  });
  assert.equal(authenticationFactor.type, 'totp');
  assert.equal(authenticationFactor.totp.secret, secret);
  const factors = await api.factors({ userId: user.id });
  assert.deepEqual(factors.data.map((f) => f.id), [authenticationFactor.id]);
  const verified = await api.mfa.verifyChallenge({
    authenticationChallengeId: authenticationChallenge.id,
    code: totp(secret),
  });
  assert.equal(verified.valid, true);

  let pending;
  await assert.rejects(
    workos.userManagement.authenticateWithPassword({ clientId, email: entry.email, password: entry.password }),
    (error) => {
      pending = error.rawData;
      return error.status === 403 && codeOf(error) === 'mfa_challenge';
    },
  );
  const challenge = await api.mfa.challengeFactor({ authenticationFactorId: pending.authentication_factors[0].id });
  const session = await workos.userManagement.authenticateWithTotp({
    clientId,
    code: totp(secret),
    pendingAuthenticationToken: pending.pending_authentication_token,
    authenticationChallengeId: challenge.id,
  });
  assert.equal(session.user.id, user.id);
});

test('organizations: domains, external id, pagination; memberships: role, lists, update, delete; organization selection', async () => {
  const organizations = [];
  for (const n of [1, 2, 3]) {
    organizations.push(
      await workos.organizations.createOrganization({
        name: `SDK Check ${n}`,
        externalId: `org_sdk_check_${n}`,
        domainData: [{ domain: `sdk-check-${n}.test`, state: n === 1 ? 'verified' : 'pending' }],
      }),
    );
  }
  const [acme] = organizations;
  assert.equal(acme.domains[0].domain, 'sdk-check-1.test');
  assert.equal(acme.domains[0].state, 'verified');
  assert.equal((await workos.organizations.getOrganizationByExternalId('org_sdk_check_2')).id, organizations[1].id);
  const page = await workos.organizations.listOrganizations({ limit: 2, order: 'asc' });
  assert.deepEqual(page.data.map((o) => o.id), [organizations[0].id, organizations[1].id]);
  const rest = await workos.organizations.listOrganizations({ limit: 2, order: 'asc', after: page.listMetadata.after });
  assert.deepEqual(rest.data.map((o) => o.id), [organizations[2].id]);

  const [, , , , , { entry, row }] = bcryptEntries(6);
  const user = await workos.userManagement.createUser({
    email: entry.email,
    emailVerified: true,
    passwordHash: row.password_digest,
    passwordHashType: 'bcrypt',
  });
  const admin = await workos.userManagement.createOrganizationMembership({
    organizationId: acme.id,
    userId: user.id,
    roleSlug: 'admin',
  });
  assert.equal(admin.role.slug, 'admin');
  assert.equal(admin.status, 'active');
  await workos.userManagement.createOrganizationMembership({ organizationId: organizations[1].id, userId: user.id });
  await assert.rejects(
    workos.userManagement.createOrganizationMembership({ organizationId: acme.id, userId: user.id }),
    refusedWith(409),
  );
  const roles = await api.organizationRoles(acme.id);
  assert.deepEqual(roles.data.map((r) => r.slug), ['admin', 'member']);
  await assert.rejects(
    workos.userManagement.createOrganizationMembership({
      organizationId: organizations[2].id,
      userId: user.id,
      roleSlug: 'billing_manager',
    }),
    refusedWith(422, 'invalid_role'),
  );

  const byUser = await workos.userManagement.listOrganizationMemberships({ userId: user.id });
  assert.equal(byUser.data.length, 2);
  const byOrganization = await workos.userManagement.listOrganizationMemberships({ organizationId: acme.id });
  assert.deepEqual(byOrganization.data.map((m) => m.userId), [user.id]);
  const demoted = await workos.userManagement.updateOrganizationMembership(admin.id, { roleSlug: 'member' });
  assert.equal(demoted.role.slug, 'member');

  // Two organizations: the sign-in asks which, and finishes with the choice.
  let pending;
  await assert.rejects(
    workos.userManagement.authenticateWithPassword({ clientId, email: entry.email, password: entry.password }),
    (error) => {
      pending = error.rawData;
      return error.status === 403 && codeOf(error) === 'organization_selection_required';
    },
  );
  assert.equal(pending.organizations.length, 2);
  const session = await workos.userManagement.authenticateWithOrganizationSelection({
    clientId,
    organizationId: acme.id,
    pendingAuthenticationToken: pending.pending_authentication_token,
  });
  assert.equal(session.organizationId, acme.id);

  await workos.userManagement.deleteOrganizationMembership(admin.id);
  const after = await workos.userManagement.listOrganizationMemberships({ organizationId: acme.id });
  assert.equal(after.data.length, 0);
});

test('events: the writes above are listed by type and organization', async () => {
  const created = await workos.events.listEvents({ events: ['user.created'], limit: 100 });
  assert.equal(created.data.length, 100, 'a full page of the 105 and more');
  for (const event of created.data) {
    assert.equal(event.event, 'user.created');
    assert.match(event.data.id, /^user_/);
  }
  const organizations = await workos.organizations.listOrganizations({ limit: 1, order: 'asc' });
  const ofOrganization = await workos.events.listEvents({
    events: ['organization_membership.created', 'organization_membership.deleted'],
    organizationId: organizations.data[0].id,
  });
  assert.deepEqual(
    ofOrganization.data.map((e) => e.event).sort(),
    ['organization_membership.created', 'organization_membership.deleted'],
  );
});

test('webhook endpoints: create, list, pause, enable, delete', async (t) => {
  if (!workos.webhooks?.createWebhookEndpoint) {
    t.skip(`WorkOS SDK ${sdkVersion} has no webhook endpoint calls`);
    return;
  }
  const endpoint = await workos.webhooks.createWebhookEndpoint({
    endpointUrl: 'https://hooks.sdk-check.test/workos',
    events: ['user.created', 'organization_membership.created'],
  });
  assert.equal(endpoint.status, 'enabled');
  await assert.rejects(
    workos.webhooks.createWebhookEndpoint({ endpointUrl: 'https://hooks.sdk-check.test/workos', events: ['user.created'] }),
    refusedWith(409),
  );
  const paused = await workos.webhooks.updateWebhookEndpoint({ id: endpoint.id, status: 'disabled' });
  assert.equal(paused.status, 'disabled');
  const listed = await workos.webhooks.listWebhookEndpoints();
  assert.deepEqual(listed.data.map((e) => [e.id, e.status]), [[endpoint.id, 'disabled']]);
  const enabled = await workos.webhooks.updateWebhookEndpoint({ id: endpoint.id, status: 'enabled' });
  assert.equal(enabled.status, 'enabled');
  await workos.webhooks.deleteWebhookEndpoint({ id: endpoint.id });
  await assert.rejects(workos.webhooks.deleteWebhookEndpoint({ id: endpoint.id }), refusedWith(404));
});

test('invitations: send, list, get by id and token, resend, revoke; the spec refusals; one email each', async () => {
  const organization = await workos.organizations.createOrganization({ name: 'SDK Invitations' });
  const member = await workos.userManagement.createUser({ email: 'invitations.member@sdk-check.test' });
  await workos.userManagement.createOrganizationMembership({ organizationId: organization.id, userId: member.id });
  const emailsBefore = (await admin('GET', 'emails')).body.data.length;

  const invitation = await workos.userManagement.sendInvitation({
    email: 'Invitee@SDK-Check.test',
    organizationId: organization.id,
    inviterUserId: member.id,
    roleSlug: 'admin',
    expiresInDays: 3,
  });
  assert.match(invitation.id, /^invitation_/);
  assert.equal(invitation.email, 'invitee@sdk-check.test');
  assert.equal(invitation.state, 'pending');
  assert.equal(invitation.organizationId, organization.id);
  assert.equal(invitation.inviterUserId, member.id);
  assert.equal(invitation.acceptedAt, null);
  assert.equal(typeof invitation.token, 'string');
  assert.ok(invitation.acceptInvitationUrl.endsWith(invitation.token));
  const days = (Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt)) / 86_400_000;
  assert.equal(Math.round(days), 3);

  await assert.rejects(
    workos.userManagement.sendInvitation({ email: 'invitee@sdk-check.test', organizationId: organization.id }),
    refusedWith(400, 'email_already_invited_to_organization'),
  );
  await assert.rejects(
    workos.userManagement.sendInvitation({ email: member.email, organizationId: organization.id }),
    refusedWith(400, 'user_already_organization_member'),
  );
  await assert.rejects(
    workos.userManagement.sendInvitation({ email: 'later@sdk-check.test', expiresInDays: 31 }),
    refusedWith(400, 'expires_in_days_too_long'),
  );
  await assert.rejects(
    workos.userManagement.sendInvitation({ email: 'later@sdk-check.test', organizationId: 'org_01NOSUCHORGANIZATION' }),
    refusedWith(404),
  );

  const ofOrganization = await workos.userManagement.listInvitations({ organizationId: organization.id });
  assert.deepEqual(ofOrganization.data.map((i) => i.id), [invitation.id]);
  const toAddress = await workos.userManagement.listInvitations({ email: 'invitee@sdk-check.test' });
  assert.deepEqual(toAddress.data.map((i) => i.id), [invitation.id]);
  assert.equal((await workos.userManagement.getInvitation(invitation.id)).email, invitation.email);
  assert.equal((await workos.userManagement.findInvitationByToken(invitation.token)).id, invitation.id);
  await assert.rejects(workos.userManagement.getInvitation('invitation_01NOSUCHINVITATION'), refusedWith(404));

  const resent = await workos.userManagement.resendInvitation(invitation.id);
  assert.equal(resent.state, 'pending');
  const revoked = await workos.userManagement.revokeInvitation(invitation.id);
  assert.equal(revoked.state, 'revoked');
  assert.ok(revoked.revokedAt);
  await assert.rejects(workos.userManagement.resendInvitation(invitation.id), refusedWith(400, 'invite_revoked'));
  await assert.rejects(workos.userManagement.revokeInvitation(invitation.id), refusedWith(400, 'invite_not_pending'));

  // One email for the invitation, one for the resend; none for a refusal.
  const emails = (await admin('GET', 'emails')).body.data.slice(emailsBefore);
  assert.deepEqual(
    emails.map((e) => [e.kind, e.to, e.invitation_id, e.organization_id]),
    [
      ['invitation', 'invitee@sdk-check.test', invitation.id, organization.id],
      ['invitation_resend', 'invitee@sdk-check.test', invitation.id, organization.id],
    ],
  );
});
