import { useEffect, useState } from 'preact/hooks';
import { errorMessage, me } from '../api';
import { Alert } from '../ui/alert';
import { AppShell } from '../ui/app-shell';
import { PermissionChips } from '../ui/permission-chips';
import { useUser } from '../ui/use-auth';
import { PasswordCard } from './account/password-card';
import { TotpCard } from './account/totp-card';
import { TokensCard } from './account/tokens-card';

/** #/account: the signed-in user's own settings. */
export function AccountPage() {
  const user = useUser();
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    me().catch((err) => setError(errorMessage(err, 'Cannot load your account.')));
  }, []);

  const sso = user?.sso === true;
  return (
    <AppShell section="account">
      <div class="content-head">
        <h1>Account</h1>
      </div>
      {error && <Alert>{error}</Alert>}
      <section class="card" aria-labelledby="profile-title">
        <div class="card-head">
          <h2 id="profile-title">Profile</h2>
        </div>
        <dl class="facts">
          <dt>Username</dt>
          <dd class="mono" data-testid="account-name">
            {user?.name}
          </dd>
          <dt>Display name</dt>
          <dd>{user?.display_name || <span class="muted">not set</span>}</dd>
          <dt>Sign-in</dt>
          <dd>{sso ? 'Single sign-on' : user?.totp_enabled ? 'Password and authenticator app' : 'Password'}</dd>
          <dt>System permissions</dt>
          <dd>
            <PermissionChips permissions={user?.permissions ?? []} empty="none (machine access comes from grants)" />
          </dd>
        </dl>
      </section>
      {sso ? (
        <Alert kind="info">
          Your account signs in through single sign-on: its password and two-factor settings are managed by your
          identity provider.
        </Alert>
      ) : (
        <>
          <PasswordCard />
          <TotpCard enabled={user?.totp_enabled === true} />
        </>
      )}
      <TokensCard permissions={user?.permissions ?? []} />
    </AppShell>
  );
}
