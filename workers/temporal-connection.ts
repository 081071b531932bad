import { readFileSync } from 'node:fs';
import type { Config } from '../config/config';

/** Connection options for Temporal from the config: plain, mTLS, or Temporal Cloud with an API key. */
export function temporalConnectionOptions(config: Config) {
  const tls =
    config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
      ? { clientCertPair: { crt: readFileSync(config.TEMPORAL_TLS_CERT_PATH), key: readFileSync(config.TEMPORAL_TLS_KEY_PATH) } }
      : config.TEMPORAL_TLS || config.TEMPORAL_API_KEY
        ? true
        : undefined;
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}
