/**
 * The token families the redactor recognises by shape, as data: one row per family, each a linear regex (it starts
 * at a literal prefix or behind a boundary look-behind, and no quantified group nests another over the same
 * characters). Prefixes and lengths follow each platform's published token format, cross-checked with the rules of
 * gitleaks and secretlint (neither could be used directly: see the README's redaction section).
 *
 * Order matters: contextual and multi-part forms run before the bare formats that could match inside them.
 */
import type { SecretType } from '../pipeline/redactionPlaceholders.js';

/**
 * A family: its placeholder type and pattern; the `secret` group (or the whole match) is replaced. `needs` lists
 * literals, of at least two characters, one of which every match, or the context its look-behind requires,
 * contains: text without any skips the pattern, which would otherwise try every position of a long token run (a
 * 1 KiB payload of one run cost ~50 µs across the families). test/collectors/redactionPrefilter.test.ts holds each
 * to that. Plain literals, not regexes, so that one pass over the text can tell which families may match at all
 * (asciiBigrams.ts).
 */
export interface SecretPattern {
  type: SecretType;
  regex: RegExp;
  needs: readonly string[];
}

/** Not preceded by a token character: where a prefixed token may start. */
const B = '(?<![A-Za-z0-9_-])';
/** Not followed by a token character. */
const E = '(?![A-Za-z0-9_-])';
const family = (type: SecretType, needs: readonly string[], body: string): SecretPattern => ({ type, needs, regex: new RegExp(`${B}${body}${E}`, 'g') });

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    type: 'private_key',
    // The body stops at the next "-----", so a BEGIN without END redacts what follows it and no more.
    // Backslashes belong to the body: inside JSON text (an excerpt) its line breaks are written \n.
    needs: ['-----BEGIN '],
    regex:
      /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,.()\\]|-(?!----))*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----)?/g,
  },
  // scheme://user:password@host — the password only; the user and host stay readable.
  { type: 'url_password', needs: ['://'], regex: /(?<=[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s:@/?#"'<>]{0,256}:)(?<secret>[^\s@/?#"'<>]{1,256})(?=@)/g },
  { type: 'jwt', needs: ['eyJ'], regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?/g },
  // A token has a digit or symbol somewhere, which keeps prose ("bearer instruments") out.
  { type: 'bearer_token', needs: ['earer', 'EARER'], regex: /(?<![A-Za-z0-9_])(?<scheme>[Bb]earer|BEARER)\s{1,8}(?=[A-Za-z]*[0-9._~+/=-])(?<secret>[A-Za-z0-9._~+/=-]{8,})/g },
  family('anthropic_key', ['sk-ant-'], 'sk-ant-[A-Za-z0-9_-]{20,}'),
  family('openai_key', ['sk-'], 'sk-[A-Za-z0-9_-]{20,}'),
  { type: 'github_token', needs: ['gh', 'github_pat_'], regex: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g },
  family('slack_token', ['xox'], 'xox[a-z]-[A-Za-z0-9-]{10,}'),
  { type: 'slack_webhook', needs: ['hooks.slack.com/'], regex: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{20,}/g },
  // Secret and restricted keys only: publishable keys (pk_) are public by design, shipped in web pages.
  { type: 'stripe_key', needs: ['k_live_', 'k_test_'], regex: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g },
  { type: 'aws_access_key_id', needs: ['AKIA', 'ASIA', 'ABIA', 'ACCA'], regex: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  family('google_api_key', ['AIza'], 'AIza[A-Za-z0-9_-]{35}'),
  family('google_oauth', ['GOCSPX-', 'ya29.', '1//0'], '(?:GOCSPX-[A-Za-z0-9_-]{28}|ya29\\.[A-Za-z0-9_-]{20,}|1//0[A-Za-z0-9_-]{40,})'),
  // A service-account key file: its private key is a PEM (above); its key id is the other half.
  { type: 'gcp_service_account_key', needs: ['"private_key_id"'], regex: /(?<="private_key_id"\s{0,3}:\s{0,3}")(?<secret>[a-f0-9]{40})(?=")/g },
  family('npm_token', ['npm_'], 'npm_[A-Za-z0-9]{36}'),
  family('gitlab_token', ['gl'], 'gl(?:pat|dt|rt|ptt|ft|imt|agent|oas|cbt|soat)-[A-Za-z0-9_-]{20,}'),
  family('huggingface_token', ['hf_'], 'hf_[A-Za-z]{34}'),
  // Entra ID client secrets (…8Q~…) and storage account keys (AccountKey=<base64>).
  { type: 'azure_secret', needs: ['Q~', 'AccountKey='], regex: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])|(?<=AccountKey=)[A-Za-z0-9+/]{86}==/g },
  family('twilio_key', ['SK', 'AC'], '(?:SK|AC)[0-9a-f]{32}'),
  family('sendgrid_key', ['SG.'], 'SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}'),
  family('databricks_token', ['dapi'], 'dapi[a-f0-9]{32}(?:-\\d)?'),
  family('shopify_token', ['shp'], 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}'),
  family('digitalocean_token', ['_v1_'], 'do[opr]_v1_[a-f0-9]{64}'),
  family('pypi_token', ['pypi-AgEIcHlwaS5vcmc'], 'pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}'),
  family('dockerhub_token', ['dckr_pat_'], 'dckr_pat_[A-Za-z0-9_-]{27}'),
  family('heroku_key', ['HRKU-'], 'HRKU-[A-Za-z0-9_-]{60}'),
  family('mailgun_key', ['key-'], 'key-[0-9a-f]{32}'),
  family('mailchimp_key', ['-us'], '[0-9a-f]{32}-us\\d{1,2}'),
  family('atlassian_token', ['ATATT3'], 'ATATT3[A-Za-z0-9_=-]{150,}'),
  family('linear_key', ['lin_'], 'lin_(?:api|oauth)_[A-Za-z0-9]{40}'),
  family('postman_key', ['PMAK-'], 'PMAK-[a-f0-9]{24}-[a-f0-9]{34}'),
  family('newrelic_key', ['NRAK-', 'NRII-', 'NRJS-'], 'NR(?:AK|II|JS)-[A-Za-z0-9]{27,42}'),
  family('grafana_token', ['glsa_', 'glc_'], '(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})'),
  family('vault_token', ['hvs.', 'hvb.'], 'hv[sb]\\.[A-Za-z0-9_-]{24,}'),
  family('doppler_token', ['dp.'], 'dp\\.(?:pt|st|sa|ct|scim)\\.[A-Za-z0-9]{40,44}'),
  family('pulumi_token', ['pul-'], 'pul-[a-f0-9]{40}'),
  family('supabase_key', ['sbp_', 'sb_secret_'], 'sb(?:p|_secret)_[A-Za-z0-9_]{32,}'),
  family('sentry_token', ['sntry'], 'sntry[su]_[A-Za-z0-9+/=_]{40,}'),
  family('age_secret_key', ['AGE-SECRET-KEY-1'], 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}'),
  family('telegram_bot_token', [':AA'], '\\d{8,10}:AA[A-Za-z0-9_-]{33}'),
  family('groq_key', ['gsk_'], 'gsk_[A-Za-z0-9]{52}'),
  family('replicate_token', ['r8_'], 'r8_[A-Za-z0-9]{37}'),
  family('perplexity_key', ['pplx-'], 'pplx-[A-Za-z0-9]{48}'),
  family('figma_token', ['figd_'], 'figd_[A-Za-z0-9_-]{40}'),
  family('notion_token', ['ntn_', 'secret_'], '(?:ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})'),
  family('square_token', ['sq0', 'EAAA'], '(?:sq0(?:csp|atp)-[A-Za-z0-9_-]{22,43}|EAAA[A-Za-z0-9_+=-]{60})'),
  family('planetscale_token', ['pscale_'], 'pscale_(?:pw|tkn|oauth)_[A-Za-z0-9_.-]{32,64}'),
  family('rubygems_key', ['rubygems_'], 'rubygems_[a-f0-9]{48}'),
];
