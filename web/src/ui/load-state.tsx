import { Alert } from './alert';
import { Spinner } from './basics';
import type { Loaded } from './use-loader';

/** What a list shows before it has data: the failure, or a spinner on the first load. */
export function LoadState({ loaded }: { loaded: Loaded<unknown> }) {
  return (
    <>
      {loaded.error && <Alert>{loaded.error}</Alert>}
      {loaded.loading && !loaded.data && (
        <div class="table-empty">
          <Spinner /> Loading…
        </div>
      )}
    </>
  );
}
