/**
 * The sockets of a Kafka client that talks TLS. They connect as kafkajs's own factory does; what differs is the
 * error: OpenSSL's words ("self-signed certificate in certificate chain", "sslv3 alert bad certificate") do not say
 * which setting of tapwire.yaml is wrong, so a failed handshake is reworded to name the broker and the `kafka.ssl`
 * field to fix, keeping OpenSSL's text at the end. kafkajs wraps the socket's error message in its own connection
 * error, so the rewording reaches whoever sees the failure (a command's one-line error, a worker's log).
 */
import { isIP } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

// kafkajs's own keep-alive delay.
const KEEP_ALIVE_MS = 60_000;

/** What a handshake error means for the configuration, by Node's / OpenSSL's error code. */
function explanation(code: string | undefined, describe: { ca: string; servername: string }): string | undefined {
  switch (code) {
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
      return `the broker's certificate is not signed by ${describe.ca}`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the broker's certificate does not name ${describe.servername} (set kafka.ssl.servername to a name it holds)`;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return "the broker's certificate is outside its validity period";
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN':
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return 'the broker refused the client certificate (kafka.ssl.cert and kafka.ssl.key: missing, or not signed by a CA the broker trusts)';
    default:
      return undefined;
  }
}

/**
 * A kafkajs socket factory for TLS connections with the client's `ssl` options (kafkaClientConfig.ts); `caSource`
 * names where the CA came from for the message ("the CA in kafka.ssl.ca (/etc/tapwire/ca.pem)" or Node's roots).
 */
export function tlsSocketFactory(caSource: string): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const options: ConnectionOptions = typeof ssl === 'object' ? ssl : {};
    const servername = options.servername ?? (isIP(host) ? undefined : host);
    const socket = connect({ host, port, ...(servername ? { servername } : {}), ...options }, onConnect);
    // Registered before kafkajs's own listener, so the message it wraps is already the reworded one.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const meaning = explanation(error.code, { ca: caSource, servername: servername ?? host });
      if (meaning) error.message = `TLS to ${host}:${port}: ${meaning} (${error.message.trim()})`;
    });
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    return socket;
  };
}
