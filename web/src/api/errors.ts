// Turns an API failure into a sentence for the user. The gateway's own
// message is preferred where it is specific; common codes get wording that
// says what to do.

import { ApiError } from './http';

const BY_CODE: Record<string, string> = {
  network: 'Cannot reach the gateway. Check your connection and try again.',
  forbidden: 'You do not have permission to do this.',
  csrf: 'The request was refused as a possible cross-site request. Reload the page and try again.',
  rate_limited: 'Too many requests. Wait a minute, then try again.',
  builtin: 'Built-in roles cannot be changed or deleted.',
  unauthorized: 'Your sign-in is no longer valid. Sign in again.',
};

export function errorMessage(err: unknown, fallback = 'The request failed.'): string {
  if (!(err instanceof ApiError)) return fallback;
  // Codes whose meaning the user needs spelled out, whatever the gateway said.
  if (err.code === 'network' || err.code === 'csrf' || err.code === 'unauthorized') return BY_CODE[err.code];
  const specific = err.message && err.message !== 'Request failed' && !/^http_/.test(err.message) ? err.message : '';
  if (specific && err.code !== 'forbidden') return capitalize(specific);
  if (BY_CODE[err.code]) return BY_CODE[err.code];
  if (err.status === 404) return 'Not found: the gateway does not know this (it may be an older version).';
  if (err.status >= 500) return `The gateway failed (${err.status}). Its log has the details.`;
  return specific ? capitalize(specific) : `${fallback} (${err.code})`;
}

function capitalize(s: string): string {
  const t = s.trim();
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : c + '.';
}
