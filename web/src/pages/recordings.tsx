import { useState } from 'preact/hooks';
import { hasPermission } from '../api';
import { AppShell } from '../ui/app-shell';
import { NeedsPermission } from '../ui/needs-permission';
import { useUser } from '../ui/use-auth';
import { RecordingsList } from './recordings/recordings-list';
import { RecordingView } from './recordings/recording-view';

/** #/recordings and #/recordings/ID: for holders of `audit` (the gateway checks too). */
export function RecordingsPage({ id }: { id?: string }) {
  useUser();
  const [forbidden, setForbidden] = useState(false);
  const onForbidden = () => setForbidden(true);
  if (!hasPermission('audit') || forbidden) {
    return (
      <AppShell section="recordings">
        <div class="content-head">
          <h1>Recordings</h1>
        </div>
        <NeedsPermission permission="audit" what="session recordings" />
      </AppShell>
    );
  }
  return (
    <AppShell section="recordings" wide={id !== undefined}>
      {id === undefined ? (
        <>
          <div class="content-head">
            <h1>Recordings</h1>
          </div>
          <RecordingsList onForbidden={onForbidden} />
        </>
      ) : (
        <RecordingView key={id} id={id} onForbidden={onForbidden} />
      )}
    </AppShell>
  );
}
