import { Alert } from './alert';

/** What a page shows to a user who lacks its system permission (the API answers 403). */
export function NeedsPermission({ permission, what }: { permission: string; what: string }) {
  return (
    <Alert testId="needs-permission">
      <strong>You need the {permission} permission to see {what}.</strong> Ask an administrator for a role that includes
      it.
    </Alert>
  );
}
