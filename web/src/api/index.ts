// The gateway's REST API, one typed function per endpoint (docs/api.md).

export * from './types';
export { ApiError, request, setUnauthorizedHandler } from './http';
export { errorMessage } from './errors';
export { getToken, getUser, getMode, hasPermission, subscribe } from './session-store';
export * from './auth';
export * from './agents';
export * from './account';
export * from './users';
export * from './roles';
export * from './groups';
export * from './grants';
export * from './audit';
export * from './recordings';
