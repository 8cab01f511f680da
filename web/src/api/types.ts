// The gateway's JSON shapes (docs/api.md). Fields a gateway from before
// identity and roles does not send are optional.

export type AgentPermission = 'view' | 'control' | 'clipboard' | 'file-transfer' | 'command' | 'record';
export type SystemPermission = 'admin' | 'audit' | 'enroll';
export type Permission = AgentPermission | SystemPermission;

export interface User {
  name: string;
  display_name?: string;
  /** System permissions: admin, audit, enroll. */
  permissions?: string[];
  totp_enabled?: boolean;
  sso?: boolean;
}

export interface LoginResult {
  token: string;
  expires_in: number;
  user: User;
}

export interface SsoStatus {
  enabled: boolean;
  label?: string;
}

export interface Display {
  name: string;
  width: number;
  height: number;
}

export interface Pipeline {
  display: string;
  encoder: string;
  peers: number;
}

export interface Agent {
  id: string;
  name: string;
  online: boolean;
  version?: string;
  displays?: Display[];
  encoders?: string[];
  pipelines?: Pipeline[];
  last_seen?: number;
  group?: string;
  require_reason?: boolean;
  /** The signed-in user's permissions on this agent. */
  permissions?: string[];
}

export interface SessionInfo {
  sid: string;
  user: string;
  agent: string;
  display: string;
  scopes: string[];
  reason?: string;
  started_at: number;
  input_refused?: number;
}

export interface TotpSetup {
  secret: string;
  otpauth_uri: string;
}

export interface ApiToken {
  name: string;
  scopes: string[];
  expires_at: number;
  created_at: number;
}

export interface NewApiToken {
  token: string;
  name: string;
  scopes: string[];
  expires_at: number;
}

export interface AdminUser {
  name: string;
  display_name?: string;
  disabled: boolean;
  totp_enabled: boolean;
  sso: boolean;
  locked_until?: number | null;
  created_at?: number;
}

export interface Role {
  name: string;
  builtin: boolean;
  permissions: string[];
}

export interface Group {
  name: string;
  require_reason: boolean;
}

export type SubjectKind = 'user' | 'oidc-group';

export interface Grant {
  id: string | number;
  subject_kind: SubjectKind;
  subject: string;
  role: string;
  group: string | null;
}
