import { useState } from 'preact/hooks';
import { listTokens, revokeToken, type ApiToken, type NewApiToken } from '../../api';
import { formatDate } from '../../ui/basics';
import { Alert } from '../../ui/alert';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { DataTable } from '../../ui/data-table';
import { RowButton } from '../../ui/row-button';
import { SecretRow } from '../../ui/secret-row';
import { PermissionChips } from '../../ui/permission-chips';
import { useLoader } from '../../ui/use-loader';
import { NewTokenDialog } from './new-token-dialog';

/** API tokens for scripts and automation. */
export function TokensCard({ permissions }: { permissions: string[] }) {
  const tokens = useLoader(listTokens, 'your API tokens');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const now = Date.now() / 1000;

  return (
    <section class="card" aria-labelledby="tokens-title" data-testid="tokens-card">
      <div class="card-head card-head-row">
        <div>
          <h2 id="tokens-title">API tokens</h2>
          <p class="muted">For scripts and automation: sent as a bearer token, limited to the scopes you choose.</p>
        </div>
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)} data-testid="token-new">
          New token
        </button>
      </div>
      {created && (
        <div class="new-secret" data-testid="token-created">
          <p>
            <strong>Token “{created.name}” created.</strong> Copy it now: it is not shown again.
          </p>
          <SecretRow text={created.token} testId="token-value" />
          <button type="button" class="btn btn-secondary btn-small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {tokens.error && <Alert>{tokens.error}</Alert>}
      {tokens.data && tokens.data.length === 0 && <p class="muted table-empty">No API tokens.</p>}
      {tokens.data && tokens.data.length > 0 && (
        <DataTable columns={['Name', 'Scopes', 'Created', 'Expires']} actions>
          {tokens.data.map((t) => (
            <tr key={t.name} data-token={t.name}>
              <td class="mono">{t.name}</td>
              <td>
                <PermissionChips permissions={t.scopes ?? []} />
              </td>
              <td>{formatDate(t.created_at)}</td>
              <td>
                {formatDate(t.expires_at)}
                {t.expires_at && t.expires_at < now && <span class="chip chip-danger">expired</span>}
              </td>
              <td class="col-actions">
                <RowButton onClick={() => setRevoking(t)}>Revoke</RowButton>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {creating && (
        <NewTokenDialog
          permissions={permissions}
          onClose={() => setCreating(false)}
          onCreated={(t) => {
            setCreating(false);
            setCreated(t);
            tokens.reload();
          }}
        />
      )}
      {revoking && (
        <ConfirmDialog
          title="Revoke the token?"
          confirmLabel="Revoke"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await revokeToken(revoking.name);
            await tokens.reload();
          }}
        >
          Scripts using <strong>{revoking.name}</strong> stop working at once.
        </ConfirmDialog>
      )}
    </section>
  );
}
