/**
 * Values WPCloudDeploy 5.8.0's own encrypt()/encrypt_v1() produced with real PHP 8.2
 * (tests/helpers/wpcd-php.ts), for runs where WPCD's archive is not at hand.
 */
export const OPTION_KEY = 'Opt1onKey!9';
export const CONSTANT_KEY = 'wp-config-Key#42';

export const VECTORS = [
  { what: 'v2 with the option key', plain: 'dop_v1_from_option_ü', keys: { v2Key: OPTION_KEY }, stored: 'wpcd-encrypt-v2:oHNlKv+dpbqzob/gsQSmwCB2z2SuC0R9s8SDaOPRhE7dQE7zjEAVpJu72wgv+FFwgB0NdUeRexMglVS8o75hYd+1Mu0TdWmwejGj6KqOB1o=' },
  { what: 'v2 of an empty value', plain: '', keys: { v2Key: OPTION_KEY }, stored: 'wpcd-encrypt-v2:pCbctmQtzGfOPG7aBjHlXUplJZYVeeR90I/jwEBAolPhjJoiprRf9UbZBLUDNR9NZ7TtmGHhTuHl84DTUMUjRA==' },
  { what: 'v2 with the wp-config constant', plain: 'dop_v1_from_constant', keys: { v2Key: CONSTANT_KEY }, stored: 'wpcd-encrypt-v2:UA8xuCGOx6YUpp3P3U3x7EVuw2pJnSaAmxuQDEKfio/kOYnQlO6zEVQ5Bqvm9GZZ2DUyYicUJo146+ogpxuUBsyc/eWETowkBEd0lPzbE2E=' },
  { what: 'v1 with WPCD\'s built-in key', plain: 'legacy_v1_token', keys: { v2Key: null }, stored: '9zXHio1Ah+jJdaN/tNfiuQ==' },
  { what: 'v1 with the wp-config constant', plain: 'legacy_v1_const', keys: { v2Key: CONSTANT_KEY, v1Key: CONSTANT_KEY }, stored: 'AJeT5tYSdQ13LUFnWjnIcQ==' },
] as const;
