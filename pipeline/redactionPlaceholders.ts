/**
 * The redaction placeholder is part of the event contract: collectors write it in place of a secret,
 * and detectors and rules match on it (`[REDACTED:<type>:<8 hex HMAC>]`).
 */

/** Placeholder types; the rule pack matches on these names, so they are a contract. */
export const SECRET_TYPES = [
  'jwt',
  'bearer_token',
  'private_key',
  'aws_access_key_id',
  'github_token',
  'slack_token',
  'stripe_key',
  'openai_key',
  'anthropic_key',
  'google_api_key',
  'secret',
] as const;

/** One of SECRET_TYPES. */
export type SecretType = (typeof SECRET_TYPES)[number];

/** Matches any redaction placeholder. */
export const PLACEHOLDER_PATTERN = /\[REDACTED:([a-z_]+):([0-9a-f]{8})\]/;
