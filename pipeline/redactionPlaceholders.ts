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
  'url_password',
  'slack_webhook',
  'google_oauth',
  'gcp_service_account_key',
  'npm_token',
  'gitlab_token',
  'huggingface_token',
  'azure_secret',
  'twilio_key',
  'sendgrid_key',
  'databricks_token',
  'shopify_token',
  'digitalocean_token',
  'pypi_token',
  'dockerhub_token',
  'heroku_key',
  'mailgun_key',
  'mailchimp_key',
  'atlassian_token',
  'linear_key',
  'postman_key',
  'newrelic_key',
  'grafana_token',
  'vault_token',
  'doppler_token',
  'pulumi_token',
  'supabase_key',
  'sentry_token',
  'age_secret_key',
  'telegram_bot_token',
  'groq_key',
  'replicate_token',
  'perplexity_key',
  'figma_token',
  'notion_token',
  'square_token',
  'planetscale_token',
  'rubygems_key',
  'aws_secret_key',
  'encoded_secret',
] as const;

/** One of SECRET_TYPES. */
export type SecretType = (typeof SECRET_TYPES)[number];

/** Matches any redaction placeholder. */
export const PLACEHOLDER_PATTERN = /\[REDACTED:([a-z_]+):([0-9a-f]{8})\]/;
