import { hasPermission } from '../../api';
import { Alert } from '../../ui/alert';
import { AppShell } from '../../ui/app-shell';
import { useUser } from '../../ui/use-auth';
import { hrefFor, type AdminSection } from '../../router';
import { UsersSection } from './users';
import { RolesSection } from './roles';
import { GroupsSection } from './groups';
import { GrantsSection } from './grants';

const TABS: { section: AdminSection; label: string }[] = [
  { section: 'users', label: 'Users' },
  { section: 'roles', label: 'Roles' },
  { section: 'groups', label: 'Groups' },
  { section: 'grants', label: 'Grants' },
];

/** #/admin/...: for users with the admin permission (the gateway checks too). */
export function AdminPage({ section }: { section: AdminSection }) {
  useUser();
  if (!hasPermission('admin')) {
    return (
      <AppShell section="admin">
        <div class="content-head">
          <h1>Administration</h1>
        </div>
        <Alert>You need the admin permission to see this page.</Alert>
      </AppShell>
    );
  }
  return (
    <AppShell section="admin">
      <div class="content-head">
        <h1>Administration</h1>
      </div>
      <nav class="tabs" aria-label="Administration">
        {TABS.map((t) => (
          <a
            key={t.section}
            class={'tab' + (t.section === section ? ' tab-active' : '')}
            href={hrefFor({ name: 'admin', section: t.section })}
            aria-current={t.section === section ? 'page' : undefined}
            data-testid={'tab-' + t.section}
          >
            {t.label}
          </a>
        ))}
      </nav>
      {section === 'users' && <UsersSection />}
      {section === 'roles' && <RolesSection />}
      {section === 'groups' && <GroupsSection />}
      {section === 'grants' && <GrantsSection />}
    </AppShell>
  );
}
