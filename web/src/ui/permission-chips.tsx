import { permissionLabel, sortPermissions, PERMISSIONS } from '../permissions';

export function PermissionChips({ permissions, empty = 'none' }: { permissions: string[]; empty?: string }) {
  if (permissions.length === 0) return <span class="muted">{empty}</span>;
  return (
    <span class="chips">
      {sortPermissions(permissions).map((p) => {
        const system = PERMISSIONS.find((i) => i.name === p)?.kind === 'system';
        return (
          <span class={'chip chip-perm' + (system ? ' chip-system' : '')} key={p} data-perm={p}>
            {permissionLabel(p)}
          </span>
        );
      })}
    </span>
  );
}
