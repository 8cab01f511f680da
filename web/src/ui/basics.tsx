// Small shared pieces of UI: the logo, a spinner, time formatting.

export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg class="logo" width={size} height={size} viewBox="0 0 64 64" aria-hidden="true">
      <rect x="4" y="8" width="56" height="38" rx="6" fill="#1f6feb" />
      <rect x="10" y="14" width="44" height="26" rx="2" fill="#0d1117" />
      <path d="M24 21l14 6-6 1.6 4 6.4-3 1.8-4-6.4-5 4z" fill="#ffffff" />
      <rect x="22" y="50" width="20" height="5" rx="2.5" fill="#1f6feb" />
    </svg>
  );
}

export function Spinner() {
  return <span class="spinner" aria-hidden="true" />;
}

export function formatAgo(unixSeconds: number | undefined, now = Date.now()): string {
  if (!unixSeconds) return 'never';
  const s = Math.max(0, Math.round(now / 1000 - unixSeconds));
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return new Date(unixSeconds * 1000).toLocaleDateString();
}

/** A date for tables: "12 Mar 2025, 14:05"; "—" when unknown. */
export function formatDate(unixSeconds: number | null | undefined): string {
  if (!unixSeconds) return '—';
  return new Date(unixSeconds * 1000).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}
